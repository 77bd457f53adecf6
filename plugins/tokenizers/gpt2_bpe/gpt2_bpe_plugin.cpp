#include "gpt2_bpe_tokenizer.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(gpt2_bpe) {
  reg.tokenizer<lmforge::Gpt2BpeTokenizer>(
      "gpt2_bpe", "GPT-2's byte-level BPE from a Hugging Face vocab.json and merges.txt");
}
