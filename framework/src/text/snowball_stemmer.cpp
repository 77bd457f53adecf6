#include "text/snowball_stemmer.h"

#include <libstemmer.h>

#include "config/suggest.h"
#include "lmforge/error.h"

namespace lmforge::text {

std::vector<std::string> SnowballStemmer::languages() {
  std::vector<std::string> names;
  for (const char** name = sb_stemmer_list(); *name != nullptr; ++name) names.emplace_back(*name);
  return names;
}

SnowballStemmer::SnowballStemmer(const std::string& language, const std::string& place)
    : stemmer_(sb_stemmer_new(language.c_str(), "UTF_8")) {
  if (stemmer_ == nullptr) {
    const auto known = languages();
    throw ConfigError(place, "no Snowball stemmer for '" + language + "'" +
                                 did_you_mean(language, known) + "; known: " + join_names(known));
  }
}

SnowballStemmer::~SnowballStemmer() { sb_stemmer_delete(stemmer_); }

std::string SnowballStemmer::stem(std::string_view word) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const sb_symbol* stemmed = sb_stemmer_stem(
      stemmer_, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
  if (stemmed == nullptr) return std::string(word);  // out of memory inside libstemmer
  return std::string(reinterpret_cast<const char*>(stemmed),
                     static_cast<std::size_t>(sb_stemmer_length(stemmer_)));
}

}  // namespace lmforge::text
