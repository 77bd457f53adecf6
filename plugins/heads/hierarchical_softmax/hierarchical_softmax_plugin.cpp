// Registration lives apart from the module so tests can compile hierarchical_softmax.cpp beside
// other plugins without clashing handshake symbols.
#include "hierarchical_softmax.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(hierarchical_softmax) {
  reg.head<lmforge::HierarchicalSoftmaxHead>(
      "hierarchical_softmax",
      "word2vec hierarchical softmax: binary decisions along the word's Huffman-tree path");
}
