// Registration lives apart from the module so tests can compile skipgram.cpp beside other
// plugins without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "skipgram.h"

LMFORGE_PLUGIN(skipgram) {
  reg.backbone<lmforge::SkipGramBackbone>(
      "skipgram", "word2vec skip-gram: each word's vector predicts the words around it");
}
