// Registration lives apart from the module so tests can compile lm_head.cpp beside other plugins
// without clashing handshake symbols.
#include "lm_head.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(lm) {
  reg.head<lmforge::LmHead>("lm",
                            "next-token logits over the vocabulary, optionally tied to the "
                            "backbone's input embedding");
}
