// Registration lives apart from the module so tests can compile mlm_head.cpp beside other
// plugins without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "mlm_head.h"

LMFORGE_PLUGIN(mlm_head) {
  reg.head<lmforge::MlmHead>("mlm",
                             "masked-LM logits (BERT): dense + GELU + LayerNorm, projection tied "
                             "to the backbone's input embedding; loss on masked positions only");
}
