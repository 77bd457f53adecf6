// Registration lives apart from the module so tests can compile negative_sampling.cpp beside
// other plugins without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "negative_sampling.h"

LMFORGE_PLUGIN(negative_sampling) {
  reg.head<lmforge::NegativeSamplingHead>(
      "negative_sampling",
      "word2vec negative sampling: the target word against noise words from unigram^0.75");
}
