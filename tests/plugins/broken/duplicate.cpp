// A plugin that registers a name the core already uses ("word" tokenizer).
#include "lmforge/plugin.h"
#include "lmforge/tokenizer.h"

namespace {
class Shadow : public lmforge::Tokenizer {
 public:
  using Options = lmforge::VocabularyOptions;
  Shadow(const Options& o, const lmforge::NoContext&) : Tokenizer(o) {}
  std::vector<std::string> split(std::string_view) const override { return {}; }
  std::string join(const std::vector<std::string>&) const override { return ""; }
};
}  // namespace

LMFORGE_PLUGIN(duplicate) { reg.tokenizer<Shadow>("word", "clashes with the built-in"); }
