#include "text/utf8.h"

#include <cctype>

#include "lmforge/error.h"

namespace lmforge::text {
namespace {

// Shared by next_code_point and is_valid_utf8 so the two can never disagree on what is ill-formed.
// Follows the Unicode "maximal subpart" rule (also WHATWG's): the second byte's allowed range
// depends on the lead byte, which is what rules out overlongs, surrogates and values > U+10FFFF.
char32_t decode_one(std::string_view s, std::size_t& pos, bool& ok) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  const unsigned char b0 = p[pos++];
  ok = true;
  if (b0 < 0x80) return b0;

  int need = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    ok = false;
    return kReplacementChar;
  }
  for (int i = 0; i < need; ++i) {
    if (pos >= n || p[pos] < lo || p[pos] > hi) {
      // The offending byte is left in place: it may start the next valid character.
      ok = false;
      return kReplacementChar;
    }
    cp = (cp << 6) | (p[pos] & 0x3F);
    ++pos;
    lo = 0x80;
    hi = 0xBF;
  }
  return cp;
}

bool in(char32_t cp, char32_t lo, char32_t hi) { return cp >= lo && cp <= hi; }

// Inside these blocks upper and lower case alternate, upper case first.
bool even_upper_pair(char32_t cp, char32_t lo, char32_t hi) {
  return in(cp, lo, hi) && cp % 2 == 0;
}
bool odd_upper_pair(char32_t cp, char32_t lo, char32_t hi) { return in(cp, lo, hi) && cp % 2 == 1; }

// Windows-1252 differs from Latin-1 only in 0x80-0x9F; 0 marks the five undefined bytes.
constexpr char32_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  // 80-87
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,       // 88-8F
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 90-97
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,  // 98-9F
};

std::string normalize_encoding_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

char32_t next_code_point(std::string_view s, std::size_t& pos) {
  bool ok = true;
  return decode_one(s, pos, ok);
}

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  while (pos < s.size()) out.push_back(next_code_point(s, pos));
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > kMaxCodePoint || in(cp, 0xD800, 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string encode_utf8(char32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

std::string encode_utf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t cp : code_points) append_utf8(out, cp);
  return out;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t pos = 0;
  bool ok = true;
  while (pos < s.size()) {
    // ASCII runs are the common case in every corpus; skip them without the full decoder.
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    decode_one(s, pos, ok);
    if (!ok) return false;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  std::size_t pos = 0;
  while (pos < s.size()) append_utf8(out, next_code_point(s, pos));
  return out;
}

bool is_unicode_space(char32_t cp) {
  return in(cp, 0x09, 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         in(cp, 0x2000, 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

bool is_control(char32_t cp) { return cp < 0x20 || in(cp, 0x7F, 0x9F); }

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) {
    return in(cp, 0x21, 0x2F) || in(cp, 0x3A, 0x40) || in(cp, 0x5B, 0x60) || in(cp, 0x7B, 0x7E);
  }
  if (cp < 0x100) {
    // ¡ § « ¶ · » ¿ — the P* characters of Latin-1; symbols such as © or ° stay inside words.
    return cp == 0xA1 || cp == 0xA7 || cp == 0xAB || cp == 0xB6 || cp == 0xB7 || cp == 0xBB ||
           cp == 0xBF;
  }
  if (cp < 0x2000) {
    // Greek, Armenian, Hebrew, Arabic, Devanagari and Thai punctuation.
    static constexpr char32_t kRanges[][2] = {
        {0x037E, 0x037E}, {0x0387, 0x0387}, {0x055A, 0x055F}, {0x0589, 0x058A}, {0x05BE, 0x05BE},
        {0x05C0, 0x05C0}, {0x05C3, 0x05C3}, {0x05C6, 0x05C6}, {0x05F3, 0x05F4}, {0x060C, 0x060D},
        {0x061B, 0x061B}, {0x061D, 0x061F}, {0x066A, 0x066D}, {0x06D4, 0x06D4}, {0x0964, 0x0965},
        {0x0970, 0x0970}, {0x0E4F, 0x0E4F}, {0x0E5A, 0x0E5B},
    };
    for (const auto& range : kRanges) {
      if (in(cp, range[0], range[1])) return true;
    }
    return false;
  }
  // General Punctuation minus its spaces (2000-200A), invisible format characters (200B-200F,
  // 202A-202E, 2060-206F: ZWJ among them) and line/paragraph separators.
  if (in(cp, 0x2010, 0x2027) || in(cp, 0x2030, 0x205E)) return true;
  if (in(cp, 0x2E00, 0x2E4F)) return true;  // Supplemental Punctuation
  // CJK Symbols and Punctuation: only its P* characters; 々 and 〇 are letters/numbers.
  if (in(cp, 0x3001, 0x3003) || in(cp, 0x3008, 0x3011) || in(cp, 0x3014, 0x301F) || cp == 0x3030 ||
      cp == 0x303D || cp == 0x30FB) {
    return true;
  }
  if (in(cp, 0xFE10, 0xFE19) || in(cp, 0xFE30, 0xFE52) || in(cp, 0xFE54, 0xFE6B)) return true;
  // Fullwidth forms of the ASCII punctuation above, plus the halfwidth CJK marks up to U+FF65.
  return in(cp, 0xFF01, 0xFF0F) || in(cp, 0xFF1A, 0xFF20) || in(cp, 0xFF3B, 0xFF40) ||
         in(cp, 0xFF5B, 0xFF65);
}

char32_t to_lower(char32_t cp) {
  if (cp < 0x80) return in(cp, 'A', 'Z') ? cp + 0x20 : cp;
  if (cp < 0x100) return (in(cp, 0xC0, 0xDE) && cp != 0xD7) ? cp + 0x20 : cp;
  if (cp < 0x180) {  // Latin Extended-A
    if (cp == 0x0130) return 'i';
    if (cp == 0x0178) return 0x00FF;
    if (even_upper_pair(cp, 0x0100, 0x0137) || even_upper_pair(cp, 0x014A, 0x0177) ||
        odd_upper_pair(cp, 0x0139, 0x0148) || odd_upper_pair(cp, 0x0179, 0x017E)) {
      return cp + 1;
    }
    return cp;
  }
  if (in(cp, 0x0370, 0x03FF)) {  // Greek
    if (cp == 0x0370 || cp == 0x0372 || cp == 0x0376) return cp + 1;
    if (cp == 0x037F) return 0x03F3;
    if (cp == 0x0386) return 0x03AC;
    if (in(cp, 0x0388, 0x038A)) return cp + 0x25;
    if (cp == 0x038C) return 0x03CC;
    if (cp == 0x038E || cp == 0x038F) return cp + 0x3F;
    if (in(cp, 0x0391, 0x03A1) || in(cp, 0x03A3, 0x03AB)) return cp + 0x20;
    if (cp == 0x03CF) return 0x03D7;
    if (even_upper_pair(cp, 0x03D8, 0x03EF)) return cp + 1;
    if (cp == 0x03F4) return 0x03B8;
    if (cp == 0x03F7 || cp == 0x03FA) return cp + 1;
    if (cp == 0x03F9) return 0x03F2;
    if (in(cp, 0x03FD, 0x03FF)) return cp - 0x82;
    return cp;
  }
  if (in(cp, 0x0400, 0x052F)) {  // Cyrillic and its supplement
    if (in(cp, 0x0400, 0x040F)) return cp + 0x50;
    if (in(cp, 0x0410, 0x042F)) return cp + 0x20;
    if (cp == 0x04C0) return 0x04CF;
    if (even_upper_pair(cp, 0x0460, 0x0481) || even_upper_pair(cp, 0x048A, 0x04BF) ||
        odd_upper_pair(cp, 0x04C1, 0x04CE) || even_upper_pair(cp, 0x04D0, 0x052F)) {
      return cp + 1;
    }
    return cp;
  }
  if (in(cp, 0x0531, 0x0556)) return cp + 0x30;  // Armenian
  if (in(cp, 0x1E00, 0x1EFF)) {                  // Latin Extended Additional (Vietnamese)
    if (cp == 0x1E9E) return 0x00DF;
    if (even_upper_pair(cp, 0x1E00, 0x1E95) || even_upper_pair(cp, 0x1EA0, 0x1EFF)) return cp + 1;
    return cp;
  }
  if (in(cp, 0xFF21, 0xFF3A)) return cp + 0x20;  // fullwidth A-Z
  return cp;
}

std::string decode_bytes(std::string_view bytes, const std::string& encoding) {
  const std::string name = normalize_encoding_name(encoding);
  if (name == "utf8") return sanitize(bytes);
  if (name == "utf8sig") {
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (bytes.substr(0, kBom.size()) == kBom) bytes.remove_prefix(kBom.size());
    return sanitize(bytes);
  }
  const bool latin1 = name == "latin1" || name == "iso88591" || name == "l1";
  const bool cp1252 = name == "cp1252" || name == "windows1252";
  if (!latin1 && !cp1252) {
    throw ConfigError(
        "encoding", "unknown encoding '" + encoding +
                        "'; known: utf-8, utf-8-sig, latin-1 (iso-8859-1), cp1252 (windows-1252)");
  }
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    char32_t cp = b;
    if (cp1252 && in(b, 0x80, 0x9F)) {
      cp = kCp1252High[b - 0x80];
      // Python rejects the five undefined bytes; replacing them keeps one bad byte from
      // stopping a run while still making it visible.
      if (cp == 0) cp = kReplacementChar;
    }
    append_utf8(out, cp);
  }
  return out;
}

}  // namespace lmforge::text
