// Registration lives apart from the task so tests can link the task beside other plugins.
#include "lmforge/plugin.h"
#include "mlm_task.h"

LMFORGE_PLUGIN(mlm_task) {
  reg.task<lmforge::MlmTask>("mlm",
                             "masked-LM pre-training (BERT): recover corrupted tokens with a "
                             "bidirectional body");
}
