// Registration lives apart from the module so tests can compile classifier_head.cpp beside other
// plugins without clashing handshake symbols.
#include "classifier_head.h"
#include "lmforge/plugin.h"

LMFORGE_PLUGIN(classifier) {
  reg.head<lmforge::ClassifierHead>(
      "classifier", "sequence labels from pooled features (last, first, mean, max or concat)");
}
