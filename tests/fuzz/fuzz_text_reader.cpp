// libFuzzer target: the shared line reader the language-modelling, classification and tagging
// tasks read their data with (CRLF, BOM, invalid-byte counting and the refusal threshold), on
// arbitrary bytes in each encoding. Every line it hands over must be valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>

#include "lmforge/text_file.h"
#include "fuzz_files.h"
#include "lmforge/error.h"
#include "text/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    std::cerr.setstate(std::ios::failbit);  // the reader's warnings, millions of them
    return true;
  }();
  (void)quiet;
  const std::string path = lmforge::fuzz::scratch_file(data, size, "_text.txt");
  for (const char* encoding : {"utf-8", "cp1252"}) {
    try {
      lmforge::for_each_line(path, encoding, "fuzz", [](const std::string& line, std::int64_t) {
        if (!lmforge::text::is_valid_utf8(line)) std::abort();
      });
    } catch (const lmforge::DataError&) {
    }
  }
  return 0;
}
