#pragma once
// CRC-32 (the IEEE 802.3 / zlib polynomial), enough to tell a damaged checkpoint file from an
// intact one. It detects every burst error up to 32 bits and all but 1 in 2^32 random ones; it is
// not a defence against someone forging a file on purpose (nothing in a checkpoint is executed).
// CRC-32C (Castagnoli), the same computation over another polynomial, is what TFRecord framing
// (TensorBoard event files) asks for.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lmforge::io {

/// CRC-32 of `data`, continuing from `crc` (0 to start), so a large buffer can go in pieces.
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);

/// CRC-32C of `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace lmforge::io
