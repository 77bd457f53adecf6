// Registration lives apart from the metric so tests can link it beside other plugins.
#include "cohen_kappa.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(cohen_kappa) {
  reg.metric<lmforge::CohenKappa>("cohen_kappa",
                                  "Cohen's kappa: agreement beyond chance (labelled tasks)");
}
