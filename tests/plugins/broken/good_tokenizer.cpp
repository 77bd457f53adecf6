// A well-formed plugin registering a tokenizer, loaded by the plugin-loader tests.
#include "lmforge/plugin.h"
#include "lmforge/tokenizer.h"

namespace {
class ReversedWords : public lmforge::Tokenizer {
 public:
  struct Options {
    lmforge::VocabularyOptions vocab;
    void visit(lmforge::OptionVisitor& v) { vocab.visit(v); }
  };
  ReversedWords(const Options& o, const lmforge::NoContext&) : Tokenizer(o.vocab) {}
  std::vector<std::string> split(std::string_view text) const override {
    std::vector<std::string> out;
    std::string current;
    for (char c : text) {
      if (c == ' ') {
        if (!current.empty()) out.insert(out.begin(), current);
        current.clear();
      } else {
        current += c;
      }
    }
    if (!current.empty()) out.insert(out.begin(), current);
    return out;
  }
  std::string join(const std::vector<std::string>& tokens) const override {
    std::string out;
    for (const auto& t : tokens) out += (out.empty() ? "" : " ") + t;
    return out;
  }
};
}  // namespace

LMFORGE_PLUGIN(good_tokenizer) {
  reg.tokenizer<ReversedWords>("test_reversed_words", "test plugin: words in reverse order");
}
