// File format: one `token<TAB>count` line per id, in id order, UTF-8, the four specials first.
//
// Tokens are escaped rather than rejected, because the character tokenizer legitimately produces
// a tab token (and could see CR or LF): on disk a backslash is written `\\`, a tab `\t`, a line
// feed `\n` and a carriage return `\r`; any other backslash sequence is a malformed file. So the
// only raw tab on a line is the separator and the only raw newline ends the line. Tokens must be
// non-empty, well-formed UTF-8 and unique.
#include "lmforge/vocabulary.h"

#include <filesystem>
#include <limits>
#include <string>

#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge {
namespace {

constexpr const char* kSpecials[] = {Vocabulary::kPadToken, Vocabulary::kUnkToken,
                                     Vocabulary::kBosToken, Vocabulary::kEosToken};
constexpr const char* kFormatHint =
    "expected `token<TAB>count` (a vocabulary written by lmforge: tokens escape \\\\, \\t, \\n, "
    "\\r; the first four lines are <pad>, <unk>, <bos>, <eos>)";

void escape_into(std::string& out, const std::string& token) {
  for (char c : token) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

// Returns false on an unknown escape or a trailing lone backslash.
bool unescape(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (++i == in.size()) return false;
    switch (in[i]) {
      case '\\':
        out += '\\';
        break;
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      default:
        return false;
    }
  }
  return true;
}

bool parse_count(std::string_view text, std::int64_t& value) {
  if (text.empty()) return false;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const int digit = c - '0';
    if (value > (kMax - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return true;
}

std::string quote_token(std::string_view s) {
  constexpr std::size_t kMaxShown = 40;
  std::string shown = text::sanitize(s.substr(0, kMaxShown));
  return "'" + shown + (s.size() > kMaxShown ? "...'" : "'");
}

}  // namespace

Vocabulary::Vocabulary() {
  for (const char* special : kSpecials) add(special);
}

std::int64_t Vocabulary::id(std::string_view token) const {
  auto it = index_.find(std::string(token));
  return it == index_.end() ? kUnk : it->second;
}

bool Vocabulary::contains(std::string_view token) const {
  return index_.count(std::string(token)) != 0;
}

const std::string& Vocabulary::token(std::int64_t id) const {
  if (id < 0 || id >= size()) {
    throw Error("vocabulary", "token id " + std::to_string(id) + " is out of range for a " +
                                  std::to_string(size()) + "-token vocabulary");
  }
  return tokens_[static_cast<std::size_t>(id)];
}

std::int64_t Vocabulary::add(std::string_view token) {
  std::string key(token);
  if (auto it = index_.find(key); it != index_.end()) return it->second;
  // Rejected here so that every vocabulary that can be built can also be saved and loaded back.
  if (key.empty()) throw Error("vocabulary", "cannot add an empty token");
  if (!text::is_valid_utf8(key)) {
    throw Error("vocabulary", "cannot add token " + quote_token(key) + ": not valid UTF-8");
  }
  const std::int64_t new_id = size();
  tokens_.push_back(key);
  counts_.push_back(0);
  index_.emplace(std::move(key), new_id);
  return new_id;
}

void Vocabulary::set_count(std::int64_t id, std::int64_t count) {
  token(id);  // range check with the same message
  if (count < 0) {
    throw Error("vocabulary", "count of token id " + std::to_string(id) + " must be >= 0, got " +
                                  std::to_string(count));
  }
  counts_[static_cast<std::size_t>(id)] = count;
}

namespace {
void check_attachment_name(const std::string& name) {
  bool ok = !name.empty() && name.front() != '.';
  for (char c : name) {
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    throw Error("vocabulary", "attachment name '" + name +
                                  "' must be lowercase letters, digits, '.', '_' or '-'");
  }
}
}  // namespace

void Vocabulary::attach(const std::string& name, std::string bytes) {
  check_attachment_name(name);
  attachments_[name] = std::move(bytes);
}

const std::string* Vocabulary::attachment(const std::string& name) const {
  auto it = attachments_.find(name);
  return it == attachments_.end() ? nullptr : &it->second;
}

const std::string* Vocabulary::load_attachment(const std::string& name) {
  check_attachment_name(name);
  if (const std::string* in_memory = attachment(name)) return in_memory;
  if (loaded_from_.empty()) return nullptr;
  const std::string path = attachment_path(loaded_from_, name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
  return &(attachments_[name] = io::read_text(path));
}

std::string Vocabulary::attachment_path(const std::string& vocab_path, const std::string& name) {
  const std::filesystem::path p(vocab_path);
  return (p.parent_path() / (p.stem().string() + "." + name)).string();
}

void Vocabulary::save(const std::string& path) const {
  // Attachments first: a vocab.txt that exists always has its attachments beside it.
  for (const auto& [name, bytes] : attachments_) {
    io::write_text_atomically(attachment_path(path, name), bytes);
  }

  std::string out;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    escape_into(out, tokens_[i]);
    out += '\t';
    out += std::to_string(counts_[i]);
    out += '\n';
  }
  io::write_text_atomically(path, out);
}

Vocabulary Vocabulary::load(const std::string& path) {
  std::string content = io::read_text(path);
  std::string_view rest = content;
  // Tolerated because editors on Windows add it; it is never part of the first token.
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);

  Vocabulary vocab;
  vocab.loaded_from_ = path;
  vocab.tokens_.clear();
  vocab.counts_.clear();
  vocab.index_.clear();

  std::int64_t line_number = 0;
  std::string token;
  auto fail = [&](const std::string& message) -> DataError {
    return DataError(path + ":" + std::to_string(line_number), message);
  };
  while (!rest.empty()) {
    ++line_number;
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF line endings

    if (line.empty()) throw fail(std::string("empty line; ") + kFormatHint);
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      throw fail("no tab between token and count in " + quote_token(line) + "; " + kFormatHint);
    }
    if (line.find('\t', tab + 1) != std::string_view::npos) {
      throw fail("more than one tab in " + quote_token(line) + "; " + kFormatHint);
    }
    if (!unescape(line.substr(0, tab), token)) {
      throw fail("bad backslash escape in token " + quote_token(line.substr(0, tab)) +
                 "; only \\\\, \\t, \\n and \\r are allowed");
    }
    if (token.empty()) throw fail(std::string("empty token; ") + kFormatHint);
    if (!text::is_valid_utf8(token))
      throw fail("token " + quote_token(token) + " is not valid UTF-8");
    std::int64_t count = 0;
    if (!parse_count(line.substr(tab + 1), count)) {
      throw fail("count " + quote_token(line.substr(tab + 1)) + " is not a non-negative integer; " +
                 kFormatHint);
    }
    if (line_number <= 4 && token != kSpecials[line_number - 1]) {
      throw fail("line " + std::to_string(line_number) + " must be the special token " +
                 kSpecials[line_number - 1] + ", found " + quote_token(token) +
                 "; the first four lines are <pad>, <unk>, <bos>, <eos> in that order");
    }
    if (vocab.index_.count(token) != 0) {
      throw fail("token " + quote_token(token) + " appears twice (first on line " +
                 std::to_string(vocab.index_.at(token) + 1) + ")");
    }
    vocab.add(token);
    vocab.counts_.back() = count;
  }
  if (line_number < 4) {
    ++line_number;
    throw fail(std::string("file ends before the special token ") + kSpecials[line_number - 1] +
               "; the first four lines must be <pad>, <unk>, <bos>, <eos>");
  }
  return vocab;
}

}  // namespace lmforge
