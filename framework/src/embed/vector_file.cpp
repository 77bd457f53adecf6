#include "embed/vector_file.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>
#include <system_error>

#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge::embed {
namespace {

// Ids below this are the specials (<pad>, <unk>, <bos>, <eos>); embed_internal.h has the same
// constant, but pulls in LibTorch, which this file stays free of.
constexpr std::int64_t kFirstWord = Vocabulary::kEos + 1;

float read_float_le(const unsigned char* bytes) {
  std::uint32_t bits = std::uint32_t(bytes[0]) | std::uint32_t(bytes[1]) << 8 |
                       std::uint32_t(bytes[2]) << 16 | std::uint32_t(bytes[3]) << 24;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

bool parse_float(std::string_view text, float& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // Python's float() accepts it
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size() && !text.empty();
}

bool parse_size(std::string_view text, std::int64_t& value) {
  auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc() && result.ptr == text.data() + text.size() && !text.empty();
}

std::string at_line(const std::string& path, std::int64_t line) {
  return path + ":" + std::to_string(line);
}

// What gensim strips from each line (Python bytes.rstrip(): ASCII whitespace only).
void rstrip_ascii_space(std::string& s) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.back())) s.pop_back();
}

// Collects words and rows as they are read; a repeated word keeps its first vector (gensim).
class Builder {
 public:
  explicit Builder(std::int64_t dim) {
    result_.dim = dim;
    result_.rows.assign(static_cast<std::size_t>(kFirstWord * dim), 0.0f);
  }
  // The row to fill, or nullptr when the word was seen before.
  float* add(const std::string& word) {
    Vocabulary& vocabulary = result_.vocabulary;
    const bool seen = vocabulary.contains(word);
    const std::int64_t id = vocabulary.add(word);
    if (id < kFirstWord) {  // a special such as <unk> written in the file
      if (special_filled_[id]) return nullptr;
      special_filled_[id] = true;
    } else if (seen) {
      return nullptr;
    }
    // Grown per word rather than sized from the header, which a corrupt file can overstate.
    result_.rows.resize(static_cast<std::size_t>(vocabulary.size() * result_.dim), 0.0f);
    return result_.rows.data() + id * result_.dim;
  }
  VectorRows finish() {
    // File order stands in for frequency order; descending counts keep that meaning for code
    // that reads counts (gensim likewise makes up descending counts).
    Vocabulary& vocabulary = result_.vocabulary;
    const std::int64_t size = vocabulary.size();
    for (std::int64_t id = kFirstWord; id < size; ++id) vocabulary.set_count(id, size - id);
    return std::move(result_);
  }

 private:
  VectorRows result_;
  bool special_filled_[kFirstWord] = {};
};

void check_word(const std::string& word, const std::string& place) {
  if (word.empty()) throw DataError(place, "empty word");
  if (!text::is_valid_utf8(word)) throw DataError(place, "word is not valid UTF-8");
}

/// One text row "word v1 ... vD" (trailing ASCII space ignored). `dim` < 0 accepts any count
/// (the first row of a GloVe file sets it). Returns the word; `values` gets the numbers.
std::string parse_text_row(std::string line, const std::string& place, std::int64_t dim,
                           std::vector<float>& values) {
  rstrip_ascii_space(line);
  std::string_view rest(line);
  std::size_t cut = rest.find(' ');
  std::string word(rest.substr(0, cut));
  check_word(word, place);
  values.clear();
  if (dim > 0) values.reserve(static_cast<std::size_t>(dim));
  while (cut != std::string_view::npos) {
    rest.remove_prefix(cut + 1);
    cut = rest.find(' ');
    std::string_view field = rest.substr(0, cut);
    float value;
    if (!parse_float(field, value)) {
      throw DataError(place, "'" + std::string(field) + "' is not a number" +
                                 (field.empty() ? " (two spaces in a row?)" : ""));
    }
    values.push_back(value);
  }
  if (dim >= 0 && static_cast<std::int64_t>(values.size()) != dim) {
    throw DataError(place, "expected a word and " + std::to_string(dim) + " numbers, got " +
                               std::to_string(values.size()) + " numbers" +
                               (values.empty() ? "; is this a binary file?" : ""));
  }
  return word;
}

}  // namespace

VectorRows read_word2vec_file(const std::string& path, bool binary) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, std::string("cannot open file: ") + std::strerror(errno));
  std::string header;
  if (!std::getline(in, header)) throw DataError(path, "empty file; expected a `V D` header");
  rstrip_ascii_space(header);
  const std::size_t space = header.find_first_of(" \t");
  std::int64_t words = 0, dim = 0;
  std::string_view view(header);
  std::string_view second =
      space == std::string::npos ? std::string_view() : view.substr(space + 1);
  while (!second.empty() && (second.front() == ' ' || second.front() == '\t')) {
    second.remove_prefix(1);
  }
  if (space == std::string::npos || !parse_size(view.substr(0, space), words) ||
      !parse_size(second, dim) || words < 0 || dim < 1) {
    throw DataError(at_line(path, 1),
                    "expected a word2vec header `V D` (vector count and dimension), got '" +
                        header + "'" + (binary ? "" : "; is this a word2vec file?"));
  }
  // Every vector takes at least one byte per number (four in binary), so a dimension beyond the
  // file's size is a corrupt header; caught here, before it sizes any buffer.
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (!ec && static_cast<std::uint64_t>(dim) > file_size) {
    throw DataError(at_line(path, 1), "the header's dimension " + std::to_string(dim) +
                                          " is more numbers than the file's " +
                                          std::to_string(file_size) +
                                          " bytes can hold; the header is corrupt");
  }
  Builder builder(dim);
  if (binary) {
    std::vector<unsigned char> bytes(static_cast<std::size_t>(dim) * 4);
    std::string word;
    for (std::int64_t w = 0; w < words; ++w) {
      const std::string place = path + ": vector " + std::to_string(w + 1) + " of " +
                                std::to_string(words) + " (byte " +
                                std::to_string(static_cast<long long>(in.tellg())) + ")";
      word.clear();
      int c;
      while ((c = in.get()) != EOF && c != ' ') {
        // word2vec.c ends each vector with '\n', which then precedes the next word.
        if (c == '\n' && word.empty()) continue;
        word += static_cast<char>(c);
        if (word.size() > 100000) throw DataError(place, "no space after the word; not binary?");
      }
      if (c == EOF) throw DataError(place, "file ends early; the header promises more vectors");
      check_word(word, place);
      if (!in.read(reinterpret_cast<char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()))) {
        throw DataError(place, "file ends inside the vector of '" + word + "'");
      }
      if (float* row = builder.add(word)) {
        for (std::int64_t j = 0; j < dim; ++j) row[j] = read_float_le(bytes.data() + 4 * j);
      }
    }
  } else {
    std::string line;
    for (std::int64_t w = 0; w < words; ++w) {
      const std::string place = at_line(path, w + 2);
      if (!std::getline(in, line)) {
        throw DataError(place, "file ends after " + std::to_string(w) + " of " +
                                   std::to_string(words) + " vectors");
      }
      std::vector<float> values;
      const std::string word = parse_text_row(line, place, dim, values);
      if (float* row = builder.add(word)) std::copy(values.begin(), values.end(), row);
    }
  }
  return builder.finish();
}

VectorRows read_glove_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, std::string("cannot open file: ") + std::strerror(errno));
  std::string line;
  std::int64_t line_number = 0, dim = -1;
  std::unique_ptr<Builder> builder;
  std::vector<float> values;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string place = at_line(path, line_number);
    if (line_number == 1) {
      // A word2vec file's header would otherwise read as the word "V" with one number.
      std::string first = line;
      rstrip_ascii_space(first);
      const std::size_t space = first.find(' ');
      std::int64_t count = 0, width = 0;
      if (space != std::string::npos && parse_size(first.substr(0, space), count) &&
          parse_size(first.substr(space + 1), width)) {
        throw DataError(place, "'" + first +
                                   "' is a word2vec header (vector count and dimension); GloVe "
                                   "files have none: give format: word2vec");
      }
    }
    const std::string word = parse_text_row(line, place, dim, values);
    if (dim < 0) {
      if (values.empty()) throw DataError(place, "a word without numbers; not a GloVe file?");
      dim = static_cast<std::int64_t>(values.size());
      builder = std::make_unique<Builder>(dim);
    }
    if (float* row = builder->add(word)) std::copy(values.begin(), values.end(), row);
  }
  if (!builder) throw DataError(path, "empty file; expected GloVe rows `word v1 ... vD`");
  return builder->finish();
}

}  // namespace lmforge::embed
