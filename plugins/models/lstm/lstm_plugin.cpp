// Registration lives apart from the module so tests can compile lstm.cpp beside other plugins
// without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "lstm.h"

LMFORGE_PLUGIN(lstm) {
  reg.backbone<lmforge::LstmBackbone>(
      "lstm", "word-level LSTM (AWD-LSTM shape): embedding, stacked single-layer LSTMs, dropout");
}
