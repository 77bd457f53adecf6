// libFuzzer target: vocabulary files (vocab.txt of a run) with arbitrary bytes. A bad file must
// be a DataError naming it, never a crash; a file that loads must save and load back equal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_files.h"
#include "lmforge/error.h"
#include "lmforge/vocabulary.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = lmforge::fuzz::scratch_file(data, size, "_vocab.txt");
  try {
    lmforge::Vocabulary vocabulary = lmforge::Vocabulary::load(path);
    for (std::int64_t id = 0; id < vocabulary.size(); ++id) {
      if (vocabulary.id(vocabulary.token(id)) != id) std::abort();  // ids and tokens agree
    }
    vocabulary.save(path + ".again");
    if (!(lmforge::Vocabulary::load(path + ".again") == vocabulary)) std::abort();
  } catch (const lmforge::Error&) {
  }
  return 0;
}
