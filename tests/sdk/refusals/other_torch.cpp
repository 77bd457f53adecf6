// Stands in for a plugin compiled against another LibTorch. The handshake records the LibTorch
// version of the headers the plugin was compiled with; claiming another one here spares the test a
// second LibTorch installation, and exercises the same check in the loader.
#include <stdexcept>

#include "lmforge/plugin.h"

#undef LMFORGE_TORCH_VERSION_STRING
#define LMFORGE_TORCH_VERSION_STRING "0.1"

LMFORGE_PLUGIN(other_torch) { throw std::logic_error("registration must never run"); }
