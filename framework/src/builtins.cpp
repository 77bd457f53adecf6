// Registers the components that ship inside liblmforge (tokenizers, optimizers,
// schedules); tasks, backbones and heads are plugins through the same registry the plugins use.
#include "builtins.h"

#include "lmforge/registry.h"
#include "optim/builtin_optimizers.h"
#include "text/char_tokenizer.h"
#include "text/word_tokenizer.h"

namespace lmforge {

void register_builtins() {
  static bool done = false;
  if (done) return;
  done = true;
  Registry& reg = Registry::instance();
  reg.tokenizer<WordTokenizer>("word", "words split on whitespace and punctuation (UTF-8)");
  reg.tokenizer<CharTokenizer>("char", "one token per Unicode character (Korean syllables whole)");
  register_builtin_optimizers(reg);
  register_builtin_schedules(reg);
}

}  // namespace lmforge
