// A plugin whose registration lines name another component on their second run (as lines that
// read the name from a file or the environment could): it declares one tokenizer and registers
// another, so the loader refuses it.
#include "lmforge/plugin.h"
#include "plain_words.h"

LMFORGE_PLUGIN(undeclared_name) {
  static int runs = 0;  // 1: the host reads the declaration; 2: it registers
  reg.tokenizer<test_plugins::PlainWords>(
      ++runs == 1 ? "test_declared_words" : "test_renamed_words",
      "test plugin: registers what it did not declare");
}
