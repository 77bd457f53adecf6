// Registration lives apart from the module so tests can compile cnn.cpp beside other plugins
// without clashing handshake symbols.
#include "cnn.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(cnn) {
  reg.backbone<lmforge::CnnBackbone>(
      "cnn", "Kim (2014) sentence CNN: filter widths 3/4/5, ReLU, max-over-time pooling, dropout");
}
