// Registration lives apart from the module so tests can compile it beside other plugins.
#include "encoder_decoder.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(encoder_decoder) {
  reg.backbone<lmforge::EncoderDecoderBackbone>(
      "encoder_decoder",
      "Transformer encoder-decoder for sequence to sequence (translation), with a decode cache");
}
