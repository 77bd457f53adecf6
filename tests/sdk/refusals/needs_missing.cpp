// A plugin that needs a symbol neither liblmforge nor LibTorch provides (as one built against a
// newer SDK would). A shared module links with undefined symbols, so only loading can catch it:
// the loader binds every symbol up front and must refuse the file before registration runs.
#include "lmforge/plugin.h"

extern "C" int lmforge_sdk_test_function_nobody_defines();

LMFORGE_PLUGIN(needs_missing) {
  if (lmforge_sdk_test_function_nobody_defines() != 0) return;
}
