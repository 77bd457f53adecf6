#include "gpt2_bpe_tokenizer.h"

#include <unicode/regex.h>
#include <unicode/unistr.h>

#include <array>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>

#include "lmforge/error.h"
#include "lmforge/text_util.h"

namespace lmforge {
namespace {

constexpr const char* kPlace = "tokenizer gpt2_bpe";

std::string utf8(char32_t c) {
  std::string out;
  text_util::append_utf8(out, c);
  return out;
}

// GPT-2's spelling of bytes: printable Latin-1 bytes stand for themselves, the others for code
// points from 256 on, so every byte is a visible character and merges never see whitespace.
struct ByteAlphabet {
  std::array<std::string, 256> to_char;
  std::unordered_map<std::string, unsigned char> to_byte;
  ByteAlphabet() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_char[b] = utf8(printable ? static_cast<char32_t>(b) : next++);
      to_byte[to_char[b]] = static_cast<unsigned char>(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet table;
  return table;
}

std::string read_file(const std::string& path, const std::string& option) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot be read (tokenizer gpt2_bpe " + option + ")");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// vocab.json: one JSON object of strings to integers. A small reader of exactly that, with JSON's
// escapes (\uXXXX and surrogate pairs included), so the plugin needs no JSON library.
class VocabJson {
 public:
  VocabJson(const std::string& text, std::string place) : text_(text), place_(std::move(place)) {}

  std::vector<std::pair<std::string, std::int64_t>> entries() {
    std::vector<std::pair<std::string, std::int64_t>> out;
    expect('{');
    if (peek() == '}') return out;
    while (true) {
      std::string key = string();
      expect(':');
      out.emplace_back(std::move(key), integer());
      char c = next();
      if (c == '}') return out;
      if (c != ',') fail("expected ',' or '}'");
    }
  }

 private:
  char peek() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    if (at_ >= text_.size()) fail("unexpected end");
    return text_[at_];
  }
  char next() {
    char c = peek();
    ++at_;
    return c;
  }
  void expect(char c) {
    if (next() != c) fail(std::string("expected '") + c + "'");
  }
  [[noreturn]] void fail(const std::string& what) {
    throw DataError(place_,
                    "is not a GPT-2 vocab.json: " + what + " at byte " + std::to_string(at_));
  }
  unsigned hex4() {
    if (at_ + 4 > text_.size()) fail("short \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[at_++];
      value = value * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                            : (h | 0x20) >= 'a' && (h | 0x20) <= 'f'    ? (h | 0x20) - 'a' + 10
                                                                     : (fail("bad \\u escape"), 0));
    }
    return value;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (at_ >= text_.size()) fail("unterminated string");
      char c = text_[at_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail("unterminated escape");
      char e = text_[at_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          char32_t code = hex4();
          if (code >= 0xD800 && code < 0xDC00 && at_ + 6 <= text_.size() && text_[at_] == '\\' &&
              text_[at_ + 1] == 'u') {
            at_ += 2;
            code = 0x10000 + ((code - 0xD800) << 10) + (hex4() - 0xDC00);
          }
          out += utf8(code);
          break;
        }
        default:
          fail(std::string("unknown escape \\") + e);
      }
    }
  }
  std::int64_t integer() {
    peek();
    std::size_t start = at_;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
    if (start == at_) fail("expected a token id");
    return std::stoll(text_.substr(start, at_ - start));
  }

  const std::string& text_;
  std::string place_;
  std::size_t at_ = 0;
};

// GPT-2's pre-tokenisation: contractions, letters, digits and other symbols (each with one
// leading space), and runs of whitespace.
const icu::RegexPattern& pattern() {
  static const std::unique_ptr<icu::RegexPattern> compiled = [] {
    UErrorCode status = U_ZERO_ERROR;
    UParseError error;
    std::unique_ptr<icu::RegexPattern> p(icu::RegexPattern::compile(
        icu::UnicodeString::fromUTF8(
            R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)"),
        error, status));
    if (U_FAILURE(status)) throw Error(kPlace, "cannot compile GPT-2's pattern with ICU");
    return p;
  }();
  return *compiled;
}

}  // namespace

Gpt2BpeTokenizer::Gpt2BpeTokenizer(const Options& options, const NoContext&)
    : Tokenizer(VocabularyOptions{}), options_(options) {}

void Gpt2BpeTokenizer::load_merges(const std::string& text, const std::string& what) {
  ranks_.clear();
  std::istringstream lines(text);
  std::size_t number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size()) {
      throw DataError(what + ":" + std::to_string(number),
                      "is not a merge \"a b\": '" + line + "'");
    }
    ranks_.emplace(std::make_pair(line.substr(0, space), line.substr(space + 1)), ranks_.size());
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.clear();
}

void Gpt2BpeTokenizer::build_vocabulary() {
  if (options_.vocab.empty() || options_.merges.empty()) {
    throw ConfigError(kPlace,
                      "needs vocab: and merges: (GPT-2's vocab.json and merges.txt); it "
                      "loads a trained BPE and does not learn one");
  }
  std::string json = read_file(options_.vocab, "vocab");
  std::string merges = read_file(options_.merges, "merges");
  auto entries = VocabJson(json, options_.vocab).entries();
  std::vector<const std::string*> by_id(entries.size(), nullptr);
  for (const auto& [token, id] : entries) {
    if (id < 0 || id >= static_cast<std::int64_t>(entries.size()) || by_id[id]) {
      throw DataError(options_.vocab, "token ids must be 0.." + std::to_string(entries.size() - 1) +
                                          " once each; '" + token + "' has " + std::to_string(id));
    }
    by_id[id] = &token;
  }
  Vocabulary vocab;
  for (std::size_t i = 0; i < by_id.size(); ++i) {
    if (vocab.add(*by_id[i]) != static_cast<std::int64_t>(i) + Vocabulary::kEos + 1) {
      throw DataError(options_.vocab, "token '" + *by_id[i] + "' (id " + std::to_string(i) +
                                          ") is one of lmforge's specials");
    }
  }
  load_merges(merges, options_.merges);
  vocab.attach(kVocabAttachment, json);
  vocab.attach(kMergesAttachment, merges);
  Tokenizer::set_vocabulary(std::move(vocab));
}

void Gpt2BpeTokenizer::set_vocabulary(Vocabulary vocab) {
  const std::string* merges = vocab.load_attachment(kMergesAttachment);
  if (!merges) {
    throw DataError(kPlace, std::string("the vocabulary has no ") + kMergesAttachment +
                                " beside it; was it saved by a gpt2_bpe stage?");
  }
  load_merges(*merges, kMergesAttachment);
  Tokenizer::set_vocabulary(std::move(vocab));
}

std::vector<std::string> Gpt2BpeTokenizer::merge(const std::string& piece) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto hit = cache_.find(piece);
    if (hit != cache_.end()) return hit->second;
  }
  std::vector<std::string> parts = text_util::utf8_characters(piece);
  while (parts.size() > 1) {
    std::size_t best = std::numeric_limits<std::size_t>::max(), at = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      auto rank = ranks_.find({parts[i], parts[i + 1]});
      if (rank != ranks_.end() && rank->second < best) best = rank->second, at = i;
    }
    if (best == std::numeric_limits<std::size_t>::max()) break;
    // Every occurrence of the best pair, left to right, as the reference implementation merges.
    const std::string left = parts[at], right = parts[at + 1];
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < parts.size();) {
      if (i + 1 < parts.size() && parts[i] == left && parts[i + 1] == right) {
        merged.push_back(left + right);
        i += 2;
      } else {
        merged.push_back(parts[i++]);
      }
    }
    parts = std::move(merged);
  }
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < 100000) cache_.emplace(piece, parts);
  return parts;
}

std::vector<std::string> Gpt2BpeTokenizer::split(std::string_view text) const {
  std::vector<std::string> tokens;
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
  std::unique_ptr<icu::RegexMatcher> matcher(pattern().matcher(input, status));
  if (U_FAILURE(status)) throw Error(kPlace, "ICU could not match GPT-2's pattern");
  const auto& bytes = alphabet().to_char;
  while (matcher->find(status) && U_SUCCESS(status)) {
    std::string piece;
    matcher->group(status).toUTF8String(piece);
    std::string spelled;
    for (unsigned char b : piece) spelled += bytes[b];
    for (auto& token : merge(spelled)) tokens.push_back(std::move(token));
  }
  return tokens;
}

std::string Gpt2BpeTokenizer::join(const std::vector<std::string>& tokens) const {
  const auto& to_byte = alphabet().to_byte;
  std::string text;
  for (const auto& token : tokens) {
    for (const auto& c : text_util::utf8_characters(token)) {
      auto byte = to_byte.find(c);
      if (byte != to_byte.end()) {
        text += static_cast<char>(byte->second);
      } else {
        text += c;  // a special such as <unk>: not byte-level, kept as written
      }
    }
  }
  return text;
}

}  // namespace lmforge
