// Registers the components that ship inside liblmforge (tokenizers, tasks, optimizers,
// schedules) through the same registry the plugins use.
#include "builtins.h"

#include "lmforge/registry.h"
#include "optim/builtin_optimizers.h"
#include "tasks/classification.h"
#include "tasks/language_modeling.h"
#include "tasks/tagging.h"
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
  reg.task<LanguageModelingTask>("language_modeling", "next-token prediction over BPTT windows");
  reg.task<ClassificationTask>("classification", "text classification from TSV/label-first files");
  reg.task<TaggingTask>("tagging", "a label per token (POS, NER) from CoNLL-style files");
  register_builtin_optimizers(reg);
  register_builtin_schedules(reg);
}

}  // namespace lmforge
