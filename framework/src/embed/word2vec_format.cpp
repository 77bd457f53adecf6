// The word2vec.c formats, as gensim's KeyedVectors.load_word2vec_format reads them:
//   text:   "V D\n", then per word "word v1 ... vD\n"
//   binary: "V D\n", then per word "word " + D little-endian float32 + "\n"
// Text values are the shortest decimal that reads back to the same float, so a text round trip
// is bit-identical too.
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <system_error>

#include "embed/embed_internal.h"
#include "io/atomic_file.h"
#include "lmforge/embeddings.h"
#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge {
namespace {

using embed::kFirstWord;

// gensim splits a text line on ' ' and reads a binary word up to the first ' ', and both readers
// treat '\n' as the end of a record (binary strips it from the front of a word).
bool representable(const std::string& word) {
  return !word.empty() && word.find_first_of(" \n") == std::string::npos;
}

void append_float_le(std::string& out, float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((bits >> shift) & 0xFF);
}

float read_float_le(const unsigned char* bytes) {
  std::uint32_t bits = std::uint32_t(bytes[0]) | std::uint32_t(bytes[1]) << 8 |
                       std::uint32_t(bytes[2]) << 16 | std::uint32_t(bytes[3]) << 24;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

void append_float_text(std::string& out, float value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
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
  explicit Builder(std::int64_t dim)
      : dim_(dim), data_(static_cast<std::size_t>(kFirstWord * dim), 0.0f) {}
  // The row to fill, or nullptr when the word was seen before.
  float* add(const std::string& word) {
    const bool seen = vocabulary_.contains(word);
    const std::int64_t id = vocabulary_.add(word);
    if (id < kFirstWord) {  // a special such as <unk> written in the file
      if (special_filled_[id]) return nullptr;
      special_filled_[id] = true;
    } else if (seen) {
      return nullptr;
    }
    // Grown per word rather than sized from the header, which a corrupt file can overstate.
    data_.resize(static_cast<std::size_t>(vocabulary_.size() * dim_), 0.0f);
    return data_.data() + id * dim_;
  }
  WordVectors finish() {
    // File order stands in for frequency order; descending counts keep that meaning for code
    // that reads counts (gensim likewise makes up descending counts).
    const std::int64_t size = vocabulary_.size();
    for (std::int64_t id = kFirstWord; id < size; ++id) vocabulary_.set_count(id, size - id);
    torch::Tensor vectors = torch::from_blob(data_.data(), {size, dim_}, torch::kFloat).clone();
    return WordVectors(std::move(vocabulary_), vectors);
  }

 private:
  std::int64_t dim_;
  std::vector<float> data_;
  Vocabulary vocabulary_;
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

std::int64_t WordVectors::save_word2vec(const std::string& path, bool binary) const {
  std::vector<std::int64_t> ids;
  for (std::int64_t id = kFirstWord; id < vocabulary_.size(); ++id) {
    if (representable(vocabulary_.token(id))) ids.push_back(id);
  }
  const std::int64_t dim = vectors_.size(1);
  const float* data = vectors_.data_ptr<float>();
  io::write_atomically(path, [&](std::ostream& out) {
    out << ids.size() << ' ' << dim << '\n';
    std::string record;
    for (std::int64_t id : ids) {
      record.clear();
      record += vocabulary_.token(id);
      const float* row = data + id * dim;
      for (std::int64_t j = 0; j < dim; ++j) {
        if (binary) {
          if (j == 0) record += ' ';
          append_float_le(record, row[j]);
        } else {
          record += ' ';
          append_float_text(record, row[j]);
        }
      }
      record += '\n';
      out.write(record.data(), static_cast<std::streamsize>(record.size()));
    }
  });
  return static_cast<std::int64_t>(ids.size());
}

WordVectors WordVectors::load_word2vec(const std::string& path, bool binary) {
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

WordVectors WordVectors::load_glove(const std::string& path) {
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

}  // namespace lmforge
