// libFuzzer target: the word and char tokenizers on arbitrary bytes — counting, vocabulary,
// encode, decode — and decoding the bytes in every supported encoding. Nothing may crash, hang
// or trip a sanitizer, and decode(encode(text)) must be valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lmforge/error.h"
#include "text/char_tokenizer.h"
#include "text/utf8.h"
#include "text/word_tokenizer.h"

namespace {

void exercise(lmforge::Tokenizer& tokenizer, std::string_view text) {
  tokenizer.count(text);
  tokenizer.build_vocabulary();
  std::string back = tokenizer.decode(tokenizer.encode(text));
  if (!lmforge::text::is_valid_utf8(back)) std::abort();
  tokenizer.join(tokenizer.split(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* encoding : {"utf-8", "utf-8-sig", "latin-1", "cp1252"}) {
    std::string decoded = lmforge::text::decode_bytes(text, encoding);
    if (!lmforge::text::is_valid_utf8(decoded)) std::abort();
  }
  const bool lowercase = size > 0 && (data[0] & 1);
  lmforge::WordTokenizerOptions word_options;
  word_options.lowercase = lowercase;
  lmforge::WordTokenizer word(word_options, lmforge::NoContext{});
  exercise(word, text);
  lmforge::CharTokenizerOptions char_options;
  char_options.lowercase = lowercase;
  lmforge::CharTokenizer chars(char_options, lmforge::NoContext{});
  exercise(chars, text);
  return 0;
}
