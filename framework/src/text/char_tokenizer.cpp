#include "text/char_tokenizer.h"

#include "text/utf8.h"

namespace lmforge {

void CharTokenizerOptions::visit(OptionVisitor& v) {
  v.field("lowercase", lowercase,
          "lowercase the text before splitting (Latin, Greek, Cyrillic; Hangul and CJK have no "
          "case)");
  vocab.visit(v);
}

CharTokenizer::CharTokenizer(const CharTokenizerOptions& options, const NoContext&)
    : Tokenizer(options.vocab), lowercase_(options.lowercase) {}

std::vector<std::string> CharTokenizer::split(std::string_view text) const {
  std::vector<std::string> tokens;
  tokens.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = text::next_code_point(text, pos);
    if (lowercase_) cp = text::to_lower(cp);
    tokens.push_back(text::encode_utf8(cp));
  }
  return tokens;
}

std::string CharTokenizer::join(const std::vector<std::string>& tokens) const {
  std::string out;
  for (const std::string& token : tokens) out += token;
  return out;
}

}  // namespace lmforge
