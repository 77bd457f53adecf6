#include "lmforge/plugin.h"
#include "sentencepiece_tokenizer.h"

LMFORGE_PLUGIN(sentencepiece) {
  reg.tokenizer<lmforge::SentencePieceTokenizer>(
      "sentencepiece",
      "subwords (unigram or BPE) learned from the training text, or loaded from a .model file");
}
