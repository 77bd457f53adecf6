// A plugin that claims another ABI version: the loader must refuse it before registration runs.
#define LMFORGE_ABI_VERSION 999
#include "lmforge/plugin.h"

#include <stdexcept>

LMFORGE_PLUGIN(wrong_abi) { throw std::logic_error("registration must never run"); }
