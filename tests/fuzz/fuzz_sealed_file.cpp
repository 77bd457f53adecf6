// libFuzzer target: the seal every checkpoint file carries (magic, version, size, CRC-32) and
// meta.yaml's checksum line, on arbitrary bytes. Damage must be a DataError, never a crash, and
// whatever is accepted must seal back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "io/sealed_file.h"
#include "lmforge/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto opened = lmforge::io::unseal(bytes, "fuzz.pt", 2);
    if (lmforge::io::seal(opened.contents, opened.version) != bytes) std::abort();
  } catch (const lmforge::DataError&) {
  }
  try {
    std::string body = lmforge::io::unseal_text(bytes, "meta.yaml");
    // An accepted text seals back byte for byte (its final newline aside).
    if (!bytes.empty() && bytes.back() == '\n' && lmforge::io::seal_text(body) != bytes) {
      std::abort();
    }
  } catch (const lmforge::DataError&) {
  }
  return 0;
}
