#pragma once
// Word-level tokenizer: Unicode whitespace separates words and every punctuation character is a
// token of its own, so "안녕하세요, 세계!" gives 안녕하세요 , 세계 ! and Korean words are never cut
// inside a syllable. Two things in ready-tokenised corpora stay whole: angle-bracketed specials
// such as `<unk>` or `<eos>` (WikiText writes `<unk>` in its text) and WikiText's number
// separators `@-@`, `@,@`, `@.@`.
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/registry.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

struct WordTokenizerOptions {
  bool lowercase = false;
  VocabularyOptions vocab;
  void visit(OptionVisitor& v);
};

class WordTokenizer : public Tokenizer {
 public:
  using Options = WordTokenizerOptions;
  WordTokenizer(const WordTokenizerOptions& options, const NoContext& context);

  /// Whitespace, control characters and byte-order marks only separate; ill-formed UTF-8 becomes
  /// U+FFFD.
  std::vector<std::string> split(std::string_view text) const override;
  /// Tokens separated by single spaces.
  std::string join(const std::vector<std::string>& tokens) const override;

 private:
  bool lowercase_;
};

}  // namespace lmforge
