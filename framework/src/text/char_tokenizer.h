#pragma once
// Character-level tokenizer: one token per Unicode code point, so a Korean syllable is one token
// and an emoji is never cut into bytes. Spaces are tokens too (a character LM must learn where
// words end); line breaks are not part of a line, since the language-modelling task passes lines
// without '\n' and appends <eos> itself.
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/registry.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

struct CharTokenizerOptions {
  bool lowercase = false;
  VocabularyOptions vocab;
  void visit(OptionVisitor& v);
};

class CharTokenizer : public Tokenizer {
 public:
  using Options = CharTokenizerOptions;
  CharTokenizer(const CharTokenizerOptions& options, const NoContext& context);

  /// Every code point, whitespace included; ill-formed UTF-8 becomes U+FFFD.
  std::vector<std::string> split(std::string_view text) const override;
  /// Plain concatenation, the exact inverse of split on well-formed text.
  std::string join(const std::vector<std::string>& tokens) const override;

 private:
  bool lowercase_;
};

}  // namespace lmforge
