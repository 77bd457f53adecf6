// Registration lives apart from the task so tests can link the task beside other plugins.
#include "language_modeling_task.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(language_modeling) {
  reg.task<lmforge::LanguageModelingTask>("language_modeling",
                                          "next-token prediction over BPTT windows");
}
