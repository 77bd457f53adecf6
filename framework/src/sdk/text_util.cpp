#include "lmforge/text_util.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "text/utf8.h"

namespace lmforge::text_util {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string trim(std::string_view s) {
  std::size_t begin = 0, end = s.size();
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return std::string(s.substr(begin, end - begin));
}

bool blank(const std::string& s) { return std::all_of(s.begin(), s.end(), is_space); }

std::string strip_bom(const std::string& line, std::int64_t number) {
  static const std::string kBom = "\xEF\xBB\xBF";
  if (number == 1 && line.compare(0, kBom.size(), kBom) == 0) return line.substr(kBom.size());
  return line;
}

std::string where(const std::string& path, std::int64_t line) {
  return path + ":" + std::to_string(line);
}

std::string join(const std::vector<std::string>& items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    out += (i ? ", " : "") + items[i];
  }
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

std::string fixed(double value, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << value;
  return s.str();
}

void append_utf8(std::string& out, char32_t cp) { text::append_utf8(out, cp); }

std::vector<std::string> utf8_characters(std::string_view s) {
  std::vector<std::string> characters;
  for (std::size_t pos = 0; pos < s.size();) {
    const std::size_t start = pos;
    text::next_code_point(s, pos);
    characters.emplace_back(s.substr(start, pos - start));
  }
  return characters;
}

}  // namespace lmforge::text_util
