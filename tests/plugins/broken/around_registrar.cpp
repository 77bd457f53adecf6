// A plugin that declares one tokenizer through `reg` and registers a second one straight into the
// registry, where its declaration cannot see it: refused.
#include "lmforge/plugin.h"
#include "plain_words.h"

LMFORGE_PLUGIN(around_registrar) {
  reg.tokenizer<test_plugins::PlainWords>("test_open_words", "test plugin: declared");
  lmforge::Registry::instance().tokenizer<test_plugins::PlainWords>(
      "test_hidden_words", "test plugin: registered around the declaration");
}
