#pragma once
// UTF-8 and the few Unicode properties the tokenizers need. Nothing here throws on bad bytes:
// corpora scraped from the web contain stray Latin-1 or truncated sequences, and one bad byte must
// cost one U+FFFD, not the run. Only decode_bytes throws, for an encoding name it does not know.
#include <cstddef>
#include <string>
#include <string_view>

namespace lmforge::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr char32_t kMaxCodePoint = 0x10FFFF;

/// Decodes the code point starting at `pos` (which must be < s.size()) and moves `pos` past it.
/// An ill-formed sequence yields U+FFFD and consumes only its maximal valid prefix (at least one
/// byte), so a well-formed character that follows it is never swallowed or split.
char32_t next_code_point(std::string_view s, std::size_t& pos);

/// All code points of `s`; ill-formed bytes become U+FFFD.
std::u32string decode_utf8(std::string_view s);

/// Appends the UTF-8 form of `cp`; surrogates and values above U+10FFFF become U+FFFD.
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(char32_t cp);
std::string encode_utf8(std::u32string_view code_points);

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view s);

/// `s` unchanged when it is well-formed, otherwise with each ill-formed part replaced by U+FFFD.
std::string sanitize(std::string_view s);

/// The Unicode White_Space property (tab, newline, NBSP, ideographic space, ...).
bool is_unicode_space(char32_t cp);

/// Punctuation that a word tokenizer should split off: every ASCII character that is neither a
/// letter, a digit nor a space/control (like BERT, so `$`, `+` and `|` count), the Unicode P*
/// characters of Latin-1, Greek, Armenian, Hebrew, Arabic, Devanagari and Thai, General and
/// Supplemental Punctuation, CJK Symbols and Punctuation, the CJK compatibility/vertical/small
/// forms and fullwidth/halfwidth punctuation. Invisible format characters such as ZWJ are not
/// punctuation, so emoji sequences are not torn apart.
bool is_punctuation(char32_t cp);

/// C0 and C1 control characters and DEL (whitespace controls included).
bool is_control(char32_t cp);

/// Simple (one-to-one) lowercase mapping for Latin (ASCII, Latin-1, Extended-A, Extended
/// Additional), Greek, Cyrillic, Armenian and fullwidth Latin; anything else, Hangul included, is
/// returned unchanged.
char32_t to_lower(char32_t cp);

/// Converts raw bytes in `encoding` to UTF-8. Known encodings (case-insensitive, `-`/`_` optional):
/// utf-8, utf-8-sig (drops a leading byte-order mark), latin-1 / iso-8859-1, cp1252 /
/// windows-1252. Bytes that cannot be decoded become U+FFFD; an unknown encoding name throws
/// ConfigError at place "encoding".
std::string decode_bytes(std::string_view bytes, const std::string& encoding);

}  // namespace lmforge::text
