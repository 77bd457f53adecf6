#include "lmforge/text_file.h"

#include <glob.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

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

void for_each_line(const std::string& path, const std::string& encoding, const std::string& place,
                   const std::function<void(const std::string&, std::int64_t)>& on_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(place, "cannot open '" + path + "'");
  std::string raw;
  std::int64_t number = 0;
  while (std::getline(in, raw)) {
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    on_line(text::decode_bytes(raw, encoding), number);
  }
}

}  // namespace lmforge
