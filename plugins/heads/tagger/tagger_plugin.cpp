// Registration lives apart from the module so tests can compile tagger_head.cpp beside other
// plugins without clashing handshake symbols.
#include "lmforge/plugin.h"
#include "tagger_head.h"

LMFORGE_PLUGIN(tagger) {
  reg.head<lmforge::TaggerHead>("tagger", "one label per token (POS tags, BIO entity tags)");
}
