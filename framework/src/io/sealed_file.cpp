#include "io/sealed_file.h"

#include <cstdio>
#include <cstring>

#include "io/crc32.h"
#include "lmforge/error.h"

namespace lmforge::io {
namespace {

constexpr char kMagic[8] = {'\x89', 'L', 'M', 'F', '\r', '\n', '\x1a', '\n'};
constexpr const char* kTextChecksumPrefix = "# crc32 ";

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

std::uint64_t get_le(std::string_view in, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[offset + i])) << (8 * i);
  }
  return value;
}

std::string hex32(std::uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof text, "%08x", value);
  return text;
}

}  // namespace

bool looks_sealed(std::string_view bytes) {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

std::string seal(std::string_view contents, std::uint32_t version) {
  std::string out(kMagic, sizeof kMagic);
  put_le(out, version, 4);
  put_le(out, crc32(contents), 4);
  put_le(out, contents.size(), 8);
  put_le(out, 0, 8);
  out.append(contents.data(), contents.size());
  return out;
}

Unsealed unseal(std::string bytes, const std::string& path, std::uint32_t max_version) {
  if (!looks_sealed(bytes)) {
    const bool cut_magic =
        bytes.size() < sizeof kMagic && std::memcmp(bytes.data(), kMagic, bytes.size()) == 0;
    throw DataError(path, cut_magic
                              ? "truncated: " + std::to_string(bytes.size()) +
                                    " bytes, not even the magic number"
                              : "not an lmforge checkpoint file (no magic number at its start: "
                                "damaged, or written by something else)");
  }
  if (bytes.size() < kSealedHeaderSize) {
    throw DataError(path, "truncated: " + std::to_string(bytes.size()) +
                              " bytes, the header alone is " + std::to_string(kSealedHeaderSize));
  }
  Unsealed out;
  out.version = static_cast<std::uint32_t>(get_le(bytes, 8, 4));
  const auto stored_crc = static_cast<std::uint32_t>(get_le(bytes, 12, 4));
  const std::uint64_t size = get_le(bytes, 16, 8);
  // The header is not covered by the checksum: fields that must hold fixed values are checked
  // one by one (found by fuzz_sealed_file: a damaged reserved byte was accepted).
  if (out.version == 0 || get_le(bytes, 24, 8) != 0) {
    throw DataError(path, "damaged header (format version " + std::to_string(out.version) +
                              ", reserved bytes " +
                              (get_le(bytes, 24, 8) == 0 ? "zero" : "not zero") + ")");
  }
  if (out.version > max_version) {
    throw DataError(path, "written in checkpoint format " + std::to_string(out.version) +
                              ", this lmforge reads format " + std::to_string(max_version) +
                              " and older: use a newer lmforge");
  }
  const std::uint64_t actual = bytes.size() - kSealedHeaderSize;
  if (actual < size) {
    throw DataError(path, "truncated: " + std::to_string(actual) + " of " + std::to_string(size) +
                              " bytes of contents (disk full or killed while copying?)");
  }
  if (actual > size) {
    throw DataError(path, std::to_string(actual - size) +
                              " unexpected bytes after the contents: the file is damaged");
  }
  std::string_view contents(bytes.data() + kSealedHeaderSize, size);
  const std::uint32_t crc = crc32(contents);
  if (crc != stored_crc) {
    throw DataError(path, "checksum mismatch (stored " + hex32(stored_crc) + ", contents " +
                              hex32(crc) + "): the file is corrupt");
  }
  bytes.erase(0, kSealedHeaderSize);
  out.contents = std::move(bytes);
  return out;
}

std::string seal_text(const std::string& text) {
  std::string body = text;
  if (!body.empty() && body.back() != '\n') body += '\n';
  return body + kTextChecksumPrefix + hex32(crc32(body)) + "\n";
}

std::string unseal_text(const std::string& text, const std::string& path) {
  std::size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  std::size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
  start = start == std::string::npos ? 0 : start + 1;
  std::string last = text.substr(start, end - start);
  const std::size_t prefix = std::strlen(kTextChecksumPrefix);
  if (last.compare(0, prefix, kTextChecksumPrefix) != 0 || last.size() != prefix + 8) {
    throw DataError(path, "no checksum line at its end: truncated or edited");
  }
  std::string body = text.substr(0, start);
  std::string crc = hex32(crc32(body));
  if (last.substr(prefix) != crc) {
    throw DataError(path, "checksum mismatch (stored " + last.substr(prefix) + ", contents " + crc +
                              "): the file is corrupt or was edited");
  }
  return body;
}

}  // namespace lmforge::io
