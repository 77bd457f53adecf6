#pragma once
// Small string helpers that data readers and task reports share: trimming, the UTF-8 byte-order
// mark, "path:line" places, fixed-point numbers and UTF-8 characters.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/export.h"

namespace lmforge::text_util {

/// ASCII white space, line breaks included.
LMFORGE_API bool is_space(char c);
/// `s` without leading and trailing white space.
LMFORGE_API std::string trim(std::string_view s);
/// True when `s` holds only white space.
LMFORGE_API bool blank(const std::string& s);
/// Line `number` of a file without the UTF-8 byte-order mark that Windows editors put before the
/// first line; it must not become part of the first label or token.
LMFORGE_API std::string strip_bom(const std::string& line, std::int64_t number);
/// "path:line", the place of an error in a data file.
LMFORGE_API std::string where(const std::string& path, std::int64_t line);
/// The first `max_items` of `items`, comma-separated, with the count when some are left out.
LMFORGE_API std::string join(const std::vector<std::string>& items, std::size_t max_items);
/// `value` with a fixed number of decimals.
LMFORGE_API std::string fixed(double value, int digits = 4);

/// Appends the UTF-8 form of code point `cp`; surrogates and values above U+10FFFF become U+FFFD.
LMFORGE_API void append_utf8(std::string& out, char32_t cp);
/// The characters of UTF-8 text, one string of bytes each. An ill-formed sequence is a piece of
/// its own (its longest valid prefix, at least one byte), so the pieces always join back to `s`.
LMFORGE_API std::vector<std::string> utf8_characters(std::string_view s);

}  // namespace lmforge::text_util
