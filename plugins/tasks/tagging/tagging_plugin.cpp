// Registration lives apart from the task so tests can link the task beside other plugins.
#include "lmforge/plugin.h"
#include "tagging_task.h"

LMFORGE_PLUGIN(tagging) {
  reg.task<lmforge::TaggingTask>("tagging", "a label per token (POS, NER) from CoNLL-style files");
}
