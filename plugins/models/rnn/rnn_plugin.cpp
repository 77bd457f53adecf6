// Registration lives apart from the module so tests can compile rnn.cpp beside other plugins
// without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "rnn.h"

LMFORGE_PLUGIN(rnn) {
  reg.backbone<lmforge::RnnBackbone>(
      "rnn",
      "Elman RNN (tanh or ReLU): embedding, stacked single-layer RNNs, optional "
      "bidirectional");
}
