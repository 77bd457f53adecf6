// Writes the word2vec.c formats (see embed/vector_file.h; the readers live there, free of
// LibTorch so they can be fuzzed) and wraps what the readers return into WordVectors.
// Text values are the shortest decimal that reads back to the same float, so a text round trip
// is bit-identical too.
#include <charconv>
#include <cstring>
#include <utility>

#include "embed/embed_internal.h"
#include "embed/vector_file.h"
#include "io/atomic_file.h"
#include "lmforge/embeddings.h"

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

void append_float_text(std::string& out, float value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

WordVectors to_word_vectors(embed::VectorRows file) {
  torch::Tensor vectors =
      torch::from_blob(file.rows.data(), {file.vocabulary.size(), file.dim}, torch::kFloat).clone();
  return WordVectors(std::move(file.vocabulary), vectors);
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
  return to_word_vectors(embed::read_word2vec_file(path, binary));
}

WordVectors WordVectors::load_glove(const std::string& path) {
  return to_word_vectors(embed::read_glove_file(path));
}

}  // namespace lmforge
