#include "lmforge/text_file.h"

#include <glob.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <string_view>

#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge {

void require_readable_file(const std::string& path, const std::string& option,
                           const std::string& place) {
  std::error_code ec;
  if (path.empty()) throw DataError(place, "option '" + option + "' needs a file path");
  if (!std::filesystem::exists(path, ec)) {
    throw DataError(place, option + ": file '" + path + "' does not exist");
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError(place, option + ": '" + path + "' is not a regular file");
  }
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw DataError(place, option + ": cannot read '" + path + "'");
}

bool is_file_pattern(const std::string& path) {
  return path.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> expand_file_pattern(const std::string& pattern, const std::string& option,
                                             const std::string& place) {
  std::error_code ec;
  if (!is_file_pattern(pattern) || std::filesystem::is_regular_file(pattern, ec)) {
    require_readable_file(pattern, option, place);
    return {pattern};
  }
  glob_t matches{};
  const int status = glob(pattern.c_str(), 0, nullptr, &matches);  // sorted by glob(3)
  std::vector<std::string> files;
  for (std::size_t i = 0; status == 0 && i < matches.gl_pathc; ++i) {
    if (std::filesystem::is_regular_file(matches.gl_pathv[i], ec))
      files.emplace_back(matches.gl_pathv[i]);
  }
  globfree(&matches);
  if (files.empty()) throw DataError(place, option + ": no file matches '" + pattern + "'");
  return files;
}

namespace {

/// "utf-8", "UTF8", "utf_8" -> "utf8".
std::string encoding_key(const std::string& encoding) {
  std::string key;
  for (char c : encoding) {
    if (c != '-' && c != '_') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return key;
}

std::int64_t count_replacements(std::string_view text) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::int64_t n = 0;
  for (auto at = text.find(kReplacement); at != std::string_view::npos;
       at = text.find(kReplacement, at + kReplacement.size())) {
    ++n;
  }
  return n;
}

std::string percent(double share) {
  std::ostringstream s;
  s << std::setprecision(share < 0.001 ? 2 : 3) << 100.0 * share << "%";
  return s.str();
}

}  // namespace

void for_each_line(const std::string& path, const std::string& encoding, const std::string& place,
                   const std::function<void(const std::string&, std::int64_t)>& on_line,
                   double max_invalid_share) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(place, "cannot open '" + path + "'");
  const bool utf8 = encoding_key(encoding) == "utf8";
  std::string raw;
  std::int64_t number = 0, bytes = 0, invalid = 0;
  auto refuse_if_too_many = [&] {
    // A share says little about a few bytes: a 20-byte line with three cp1252 quotes read as
    // UTF-8 is a warning, not a refusal. From 4 KiB on the share decides.
    constexpr std::int64_t kEnoughBytes = 4096;
    if (bytes >= kEnoughBytes && invalid > max_invalid_share * static_cast<double>(bytes)) {
      throw DataError(place, "'" + path + "': " + percent(double(invalid) / double(bytes)) +
                                 " of the bytes read so far are not valid " + encoding +
                                 " (more than the " + percent(max_invalid_share) +
                                 " allowed): not a text file, or in another encoding? Set the "
                                 "task's encoding (utf-8, latin-1, cp1252) or fix the file");
    }
  };
  while (std::getline(in, raw)) {
    ++number;
    bytes += static_cast<std::int64_t>(raw.size()) + 1;
    // A byte order mark is not text: left in, it would glue itself to the first word.
    if (number == 1 && utf8 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::string line = text::decode_bytes(raw, encoding);
    // Replacement characters made by the decoding, not ones the file spelt out itself.
    invalid += count_replacements(line) - (utf8 ? count_replacements(raw) : 0);
    on_line(line, number);
    // After the first MiB, a file this far gone is refused now rather than at its end.
    if (bytes >= (1 << 20)) refuse_if_too_many();
  }
  if (invalid == 0) return;
  refuse_if_too_many();
  // Tasks read a file more than once (vocabulary, then batches): one warning per file.
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (!warned.insert(path).second) return;
  std::cerr << "lmforge: warning: " << path << ": " << invalid << " of " << bytes << " bytes ("
            << percent(double(invalid) / double(bytes)) << ") are not valid " << encoding
            << " and were replaced by U+FFFD\n";
}

}  // namespace lmforge
