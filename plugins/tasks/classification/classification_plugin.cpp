// Registration lives apart from the task so tests can link the task beside other plugins.
#include "classification_task.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(classification) {
  reg.task<lmforge::ClassificationTask>("classification",
                                        "text classification from TSV/label-first files");
}
