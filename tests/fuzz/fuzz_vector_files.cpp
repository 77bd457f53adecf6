// libFuzzer target: the word-vector files `init: {vectors:}` and `lmforge embed` read (word2vec
// text and binary, GloVe's header-less text) with arbitrary bytes, each input through all three
// readers. A bad file must be a DataError naming it, never a crash or an allocation the file's
// size does not justify; a file that loads must hold one row per word, all words valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "embed/vector_file.h"
#include "fuzz_files.h"
#include "lmforge/error.h"
#include "text/utf8.h"

namespace {

void check(const lmforge::embed::VectorRows& file) {
  const lmforge::Vocabulary& vocabulary = file.vocabulary;
  if (file.dim < 1) std::abort();
  if (file.rows.size() != static_cast<std::size_t>(vocabulary.size() * file.dim)) std::abort();
  for (std::int64_t id = 0; id < vocabulary.size(); ++id) {
    if (!lmforge::text::is_valid_utf8(vocabulary.token(id))) std::abort();
    if (vocabulary.id(vocabulary.token(id)) != id) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = lmforge::fuzz::scratch_file(data, size, "_vectors.txt");
  for (int reader = 0; reader < 3; ++reader) {
    try {
      if (reader == 2) {
        check(lmforge::embed::read_glove_file(path));
      } else {
        check(lmforge::embed::read_word2vec_file(path, reader == 1));
      }
    } catch (const lmforge::DataError&) {
    }
  }
  return 0;
}
