#pragma once
// Readers of the word-vector file formats (word2vec text and binary, GloVe's header-less text)
// into plain rows. Kept apart from WordVectors and LibTorch so the parsing, the part that meets
// arbitrary files, can be fuzzed on its own (tests/fuzz/fuzz_vector_files.cpp). Internal.
#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/vocabulary.h"

namespace lmforge::embed {

/// A vector file as read: the four specials, then the words in file order, and one row of `dim`
/// floats per vocabulary id (specials not written in the file stay zero).
struct VectorRows {
  Vocabulary vocabulary;
  std::int64_t dim = 0;
  std::vector<float> rows;  ///< vocabulary.size() * dim, row-major
};

/// word2vec.c's formats as gensim's KeyedVectors.load_word2vec_format reads them:
///   text:   "V D\n", then per word "word v1 ... vD\n"
///   binary: "V D\n", then per word "word " + D little-endian float32 (+ an optional "\n")
/// A repeated word keeps its first vector. Throws DataError at "path:line" (text) or at the
/// vector and byte (binary) for anything malformed, including a header that promises more than
/// the file can hold.
VectorRows read_word2vec_file(const std::string& path, bool binary);

/// GloVe's text format: no header, "word v1 ... vD" per line, D taken from the first line.
/// Throws DataError at "path:line" for a ragged row, a field that is not a number, or a first
/// line that is a word2vec header.
VectorRows read_glove_file(const std::string& path);

}  // namespace lmforge::embed
