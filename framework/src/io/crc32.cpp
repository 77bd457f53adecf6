#include "io/crc32.h"

#include <array>

namespace lmforge::io {
namespace {

// One table entry per byte value for a reflected polynomial, built once per polynomial.
template <std::uint32_t kPolynomial>
const std::array<std::uint32_t, 256>& table() {
  static const std::array<std::uint32_t, 256> entries = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
      std::uint32_t value = byte;
      for (int bit = 0; bit < 8; ++bit)
        value = (value & 1u) ? kPolynomial ^ (value >> 1) : value >> 1;
      t[byte] = value;
    }
    return t;
  }();
  return entries;
}

template <std::uint32_t kPolynomial>
std::uint32_t checksum(std::string_view data, std::uint32_t crc) {
  const auto& t = table<kPolynomial>();
  crc = ~crc;
  for (unsigned char c : data) crc = t[(crc ^ c) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) {
  return checksum<0xEDB88320u>(data, crc);
}

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  return checksum<0x82F63B78u>(data, crc);
}

}  // namespace lmforge::io
