// Registration lives apart from the module so tests can compile transformer.cpp beside other
// plugins without clashing handshake symbols.
#include "hf_gpt2_importer.h"
#include "lmforge/plugin.h"
#include "transformer.h"

LMFORGE_PLUGIN(transformer) {
  reg.backbone<lmforge::TransformerBackbone>(
      "transformer",
      "GPT-style (causal) or BERT-style (bidirectional) Transformer encoder with a key/value cache "
      "for generation");
  reg.importer<lmforge::HfGpt2Importer>(
      "hf-gpt2", "a Hugging Face GPT-2 folder (save_pretrained + vocab.json, merges.txt)");
}
