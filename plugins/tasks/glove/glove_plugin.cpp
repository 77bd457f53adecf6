// Registration lives apart from the task and model so tests can compile them beside other
// plugins without clashing handshake symbols.
#include "glove_model.h"
#include "glove_task.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(glove) {
  reg.task<lmforge::glove::GloveTask>(
      "glove",
      "GloVe: co-occurrence counts in bounded memory, then weighted least squares with AdaGrad");
  reg.backbone<lmforge::glove::GloveBackbone>(
      "glove", "GloVe's word and context vectors and biases (exports W + W~ or W)");
  reg.head<lmforge::glove::GloveHead>(
      "glove", "GloVe's weighted least-squares objective f(x) (w.w~ + b + b~ - log x)^2");
}
