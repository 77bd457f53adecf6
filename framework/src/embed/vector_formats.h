#pragma once
// The word-vector file formats lmforge reads, by the names recipes (`init: {vectors: FILE,
// format: ...}`) and the CLI (`lmforge embed FILE --vectors-format ...`) give them. One list, so
// both accept the same names. Internal.
#include <string>
#include <vector>

#include "lmforge/embeddings.h"

namespace lmforge::embed {

/// "word2vec" (text), "word2vec-binary", "glove" (GloVe's header-less text).
const std::vector<std::string>& vector_file_formats();

/// Reads `path` in `format`, one of vector_file_formats() (empty: word2vec text, the common
/// case); throws DataError at file:line for a malformed file (see vector_file.h).
WordVectors load_vector_file(const std::string& path, const std::string& format);

}  // namespace lmforge::embed
