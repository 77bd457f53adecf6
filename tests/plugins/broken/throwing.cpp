// A plugin whose registration throws: refused with the exception's text, nothing left registered.
#include <stdexcept>

#include "lmforge/plugin.h"

LMFORGE_PLUGIN(throwing) { throw std::runtime_error("cannot find my model weights"); }
