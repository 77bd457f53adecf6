#pragma once
// A binary file that can tell whether it is intact: a 32-byte header (magic number, format
// version, CRC-32 and size of the contents) before the contents. A file cut short by a full disk,
// damaged on disk or overwritten by something else is recognised as such when read, instead of
// loading as garbage. LibTorch's own archive format checks none of this for tensor data.
//
//   bytes  0..7   magic  89 'L' 'M' 'F' 0D 0A 1A 0A  (as PNG's: a text-mode copy that rewrites
//                                                     line ends, or a 7-bit one, breaks it)
//   bytes  8..11  format version, little-endian
//   bytes 12..15  CRC-32 of the contents, little-endian
//   bytes 16..23  size of the contents in bytes, little-endian
//   bytes 24..31  zero (reserved)
#include <cstdint>
#include <string>
#include <string_view>

namespace lmforge::io {

inline constexpr std::size_t kSealedHeaderSize = 32;

/// `contents` with the header in front.
std::string seal(std::string_view contents, std::uint32_t version);

struct Unsealed {
  std::uint32_t version = 0;
  std::string contents;
};

/// Checks and strips the header of `bytes`, the contents of `path`. Throws DataError naming
/// `path` when the magic number is missing, the version is newer than `max_version` (both named),
/// the file is shorter or longer than its header says, or the checksum does not match.
Unsealed unseal(std::string bytes, const std::string& path, std::uint32_t max_version);

/// True when `bytes` start with the magic number (a sealed file, whatever its state).
bool looks_sealed(std::string_view bytes);

/// A text file's own checksum as its last line, "# crc32 xxxxxxxx" (a comment to YAML), so the
/// file stays readable and editable by hand.
std::string seal_text(const std::string& text);

/// The text without its checksum line; throws DataError naming `path` when the line is missing
/// or does not match.
std::string unseal_text(const std::string& text, const std::string& path);

}  // namespace lmforge::io
