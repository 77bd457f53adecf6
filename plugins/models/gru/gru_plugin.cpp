// Registration lives apart from the module so tests can compile gru.cpp beside other plugins
// without clashing handshake symbols.
#include "gru.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(gru) {
  reg.backbone<lmforge::GruBackbone>(
      "gru", "GRU: embedding, stacked single-layer GRUs, optional bidirectional");
}
