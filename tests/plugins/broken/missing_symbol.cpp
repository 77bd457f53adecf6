// A plugin that needs a symbol nothing provides: loading must fail cleanly, not at first call.
#include "lmforge/plugin.h"

extern "C" int lmforge_symbol_that_does_not_exist();

LMFORGE_PLUGIN(missing_symbol) {
  if (lmforge_symbol_that_does_not_exist() != 0) return;
}
