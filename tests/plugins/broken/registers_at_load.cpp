// A plugin that registers from a static initializer, which runs inside dlopen before any
// handshake: refused, and the component is not left behind as a built-in.
#include "lmforge/plugin.h"
#include "plain_words.h"

namespace {
const bool registered_at_load = [] {
  lmforge::Registry::instance().tokenizer<test_plugins::PlainWords>(
      "test_early_words", "test plugin: registered while being loaded");
  return true;
}();
}  // namespace

LMFORGE_PLUGIN(registers_at_load) {
  reg.tokenizer<test_plugins::PlainWords>("test_late_words", "test plugin: declared");
}
