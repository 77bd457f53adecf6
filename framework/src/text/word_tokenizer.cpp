#include "text/word_tokenizer.h"

#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge {
namespace {

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_special_name_char(char c) {
  return is_ascii_letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '|';
}

// Length of a special like `<unk>`, `<eos>` or `<|endoftext|>` starting at `pos`, else 0. The name
// must start with a letter or '|' so that comparisons like `<3>` or `<->` still split.
std::size_t special_length(std::string_view text, std::size_t pos) {
  constexpr std::size_t kMaxName = 32;
  std::size_t i = pos + 1;
  if (i >= text.size() || !(is_ascii_letter(text[i]) || text[i] == '|')) return 0;
  while (i < text.size() && i - pos <= kMaxName && is_special_name_char(text[i])) ++i;
  return (i < text.size() && text[i] == '>') ? i + 1 - pos : 0;
}

// WikiText marks number-internal hyphens, commas and points as ` @-@ `, ` @,@ `, ` @.@ `.
bool is_wikitext_separator(std::string_view text, std::size_t pos) {
  return pos + 2 < text.size() && text[pos + 2] == '@' &&
         (text[pos + 1] == '-' || text[pos + 1] == ',' || text[pos + 1] == '.');
}

// What split_on_punctuation does with each ASCII byte, read from the same predicates the general
// path uses (so the two agree by construction): separate, stand alone as punctuation, or join the
// word (lowercased if asked). Most text is ASCII, and this skips decoding and four lookups per
// character.
struct AsciiClasses {
  enum Kind : std::uint8_t { kWord, kSeparator, kPunctuation, kGeneral };
  Kind kind[128];
  char lower[128];
  AsciiClasses() {
    for (char32_t cp = 0; cp < 128; ++cp) {
      const char32_t low = text::to_lower(cp);
      lower[cp] = static_cast<char>(low);
      if (low >= 128) {
        kind[cp] = kGeneral;  // no such letter in Unicode's tables; exact all the same
      } else if (text::is_unicode_space(cp) || text::is_control(cp)) {
        kind[cp] = kSeparator;
      } else {
        // The general path asks after lowercasing; for ASCII only letters change, and a letter
        // is never punctuation, so the class holds with and without `lowercase`.
        kind[cp] = text::is_punctuation(low) ? kPunctuation : kWord;
      }
    }
  }
};

const AsciiClasses& ascii_classes() {
  static const AsciiClasses classes;
  return classes;
}

}  // namespace

void WordTokenizerOptions::visit(OptionVisitor& v) {
  v.choice("split", split, {"punctuation", "whitespace"},
           "punctuation: whitespace separates words and each punctuation character is a token; "
           "whitespace: tokens are exactly the whitespace-separated fields, as in ready-tokenised "
           "corpora (Penn Treebank, WikiText), whose own <unk> stays the unknown token");
  v.field("lowercase", lowercase,
          "lowercase the text before splitting (Latin, Greek, Cyrillic; Hangul and CJK have no "
          "case)");
  normalization.visit(v);
  vocab.visit(v);
}

WordTokenizer::WordTokenizer(const WordTokenizerOptions& options, const NoContext&)
    : Tokenizer(options.vocab),
      whitespace_only_(options.split == "whitespace"),
      lowercase_(options.lowercase),
      normalizing_(options.normalization.any()),
      pipeline_(std::make_shared<TokenPipeline>(options.normalization, options.lowercase,
                                                "tokenizer 'word'")) {
  if (options.split != "punctuation" && options.split != "whitespace") {
    throw ConfigError("tokenizer 'word' option split",
                      "unknown split '" + options.split + "'; known: punctuation, whitespace");
  }
}

std::vector<std::string> WordTokenizer::split(std::string_view text) const {
  if (!normalizing_) {
    return whitespace_only_ ? split_on_whitespace(text) : split_on_punctuation(text);
  }
  const std::string normalized = pipeline_->normalize(text);
  std::vector<std::string> tokens =
      whitespace_only_ ? split_on_whitespace(normalized) : split_on_punctuation(normalized);
  pipeline_->apply(tokens);
  return tokens;
}

void WordTokenizer::build_vocabulary() {
  Tokenizer::build_vocabulary();
  if (!normalizing_) return;
  Vocabulary& vocab = mutable_vocabulary();
  vocab.attach(kPipelineAttachment, pipeline_->description() + "\n");
  if (pipeline_->uses_stopword_file()) {
    vocab.attach(kStopwordsAttachment, pipeline_->stopword_file_content());
  }
}

void WordTokenizer::set_vocabulary(Vocabulary vocab) {
  std::string stored;
  if (const std::string* pipeline = vocab.load_attachment(kPipelineAttachment)) {
    stored = pipeline->substr(0, pipeline->find('\n'));
  }
  // A vocabulary without the attachment was built without normalisation.
  const std::string expected = normalizing_ ? pipeline_->description() : std::string();
  if (stored != expected) {
    throw DataError(
        "vocabulary",
        "it was built with the normalisation '" + (stored.empty() ? std::string("none") : stored) +
            "' but this tokenizer applies '" + (expected.empty() ? std::string("none") : expected) +
            "'; ids would mean other words. Use the tokenizer options the vocabulary "
            "was built with");
  }
  if (pipeline_->uses_stopword_file()) {
    if (const std::string* list = vocab.load_attachment(kStopwordsAttachment)) {
      pipeline_->use_stopword_file_content(*list);
    }
  }
  Tokenizer::set_vocabulary(std::move(vocab));
}

std::vector<std::string> WordTokenizer::split_on_whitespace(std::string_view text) const {
  std::vector<std::string> tokens;
  std::string word;
  std::size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp = text::next_code_point(text, pos);
    // Only whitespace separates, as Python's str.split() (which the published counts come from)
    // does: Unicode White_Space plus the four ASCII information separators. WikiText-2's train
    // text has 36 tokens that are a lone U+FEFF; they stay tokens.
    if (text::is_unicode_space(cp) || (cp >= 0x1C && cp <= 0x1F)) {
      if (!word.empty()) tokens.push_back(std::move(word));
      word.clear();
      continue;
    }
    text::append_utf8(word, lowercase_ ? text::to_lower(cp) : cp);
  }
  if (!word.empty()) tokens.push_back(std::move(word));
  return tokens;
}

std::vector<std::string> WordTokenizer::split_on_punctuation(std::string_view text) const {
  std::vector<std::string> tokens;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) {
      tokens.push_back(std::move(word));
      word.clear();
    }
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '<') {
      if (std::size_t length = special_length(text, pos)) {
        flush();
        std::string special(text.substr(pos, length));
        if (lowercase_) {
          for (char& ch : special) ch = static_cast<char>(text::to_lower(ch));
        }
        tokens.push_back(std::move(special));
        pos += length;
        continue;
      }
    } else if (c == '@' && is_wikitext_separator(text, pos)) {
      flush();
      tokens.emplace_back(text.substr(pos, 3));
      pos += 3;
      continue;
    }
    if (static_cast<unsigned char>(c) < 128) {
      const AsciiClasses& ascii = ascii_classes();
      const auto byte = static_cast<unsigned char>(c);
      const char ch = lowercase_ ? ascii.lower[byte] : c;
      switch (ascii.kind[byte]) {
        case AsciiClasses::kWord:
          word.push_back(ch);
          ++pos;
          continue;
        case AsciiClasses::kSeparator:
          flush();
          ++pos;
          continue;
        case AsciiClasses::kPunctuation:
          flush();
          tokens.emplace_back(1, ch);
          ++pos;
          continue;
        case AsciiClasses::kGeneral:
          break;
      }
    }
    char32_t cp = text::next_code_point(text, pos);
    // Control characters and a stray byte-order mark carry no text; treating them as separators
    // keeps them from gluing onto a word and creating a vocabulary entry per variant.
    if (text::is_unicode_space(cp) || text::is_control(cp) || cp == 0xFEFF) {
      flush();
      continue;
    }
    if (lowercase_) cp = text::to_lower(cp);
    if (text::is_punctuation(cp)) {
      flush();
      tokens.push_back(text::encode_utf8(cp));
      continue;
    }
    text::append_utf8(word, cp);
  }
  flush();
  return tokens;
}

std::string WordTokenizer::join(const std::vector<std::string>& tokens) const {
  std::string out;
  for (const std::string& token : tokens) {
    if (!out.empty()) out += ' ';
    out += token;
  }
  return out;
}

}  // namespace lmforge
