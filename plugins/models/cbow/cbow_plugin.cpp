// Registration lives apart from the module so tests can compile cbow.cpp beside other plugins
// without clashing handshake symbols.
#include "cbow.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(cbow) {
  reg.backbone<lmforge::CbowBackbone>(
      "cbow", "word2vec continuous bag of words: the mean context vector predicts the centre word");
}
