// Registration lives apart from the module so tests can compile softmax.cpp beside other plugins
// without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "softmax.h"

LMFORGE_PLUGIN(softmax) {
  reg.head<lmforge::SoftmaxHead>(
      "softmax", "full softmax over the vocabulary (word2vec output layer for small vocabularies)");
}
