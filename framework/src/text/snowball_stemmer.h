#pragma once
// Snowball stemmers (Debian's libstemmer): "running" -> "run", "connections" -> "connect". The
// library's stemmer objects keep state between calls, so one is used under a lock; stemming is a
// small part of tokenising.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct sb_stemmer;

namespace lmforge::text {

class SnowballStemmer {
 public:
  /// The algorithm names libstemmer knows: "english" (Porter2), "porter" (Porter's original),
  /// "german", "russian", ...
  static std::vector<std::string> languages();

  /// Throws ConfigError at `place` when `language` is not one of languages().
  SnowballStemmer(const std::string& language, const std::string& place);
  ~SnowballStemmer();
  SnowballStemmer(const SnowballStemmer&) = delete;
  SnowballStemmer& operator=(const SnowballStemmer&) = delete;

  /// The stem of one UTF-8 word (lowercase in, as Snowball expects).
  std::string stem(std::string_view word) const;

 private:
  sb_stemmer* stemmer_;
  mutable std::mutex mutex_;
};

}  // namespace lmforge::text
