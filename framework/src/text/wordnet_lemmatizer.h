#pragma once
// English lemmas from WordNet's own morphology data (Debian's wordnet-base: the dictionary files
// that wordnet-dev's library reads), as WordNet's `morphy` finds them: irregular forms from the
// exception lists (ran -> run, better -> good, geese -> goose), then the detachment rules
// (studies -> study, played -> play), a candidate counting only when WordNet has it as a lemma.
//
// A tokenizer has no part-of-speech tags, so every part of speech is tried: exception lists
// first (verb, adjective, noun, adverb: an irregular form is nearly always the inflection), then
// a word that is already a noun, verb or adverb lemma stays as it is (so "as" is not cut to "a",
// nor "bed" to "be"), then the rules (same order). Adjective lemmas do not stop the rules:
// WordNet lists many participles as adjectives (played, boring), which should become verbs. Reading
// the files directly instead of linking libwordnet keeps the lookups thread-safe and the library's
// global state out of the process.
#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace lmforge::text {

class WordNetLemmatizer {
 public:
  /// Reads the dictionary from `dict_dir` (default: $WNSEARCHDIR, else /usr/share/wordnet);
  /// throws ConfigError at `place` when its files are missing.
  explicit WordNetLemmatizer(const std::string& place, std::string dict_dir = "");

  /// The lemma of one lowercase word; the word itself when WordNet knows no other.
  std::string lemma(std::string_view word) const;

  /// Where the dictionary is read from when no folder is given.
  static std::string default_dict_dir();

 private:
  enum Pos { kVerb, kAdjective, kNoun, kAdverb, kPosCount };
  std::array<std::unordered_set<std::string>, kPosCount> lemmas_;
  std::array<std::unordered_map<std::string, std::vector<std::string>>, kPosCount> exceptions_;
};

}  // namespace lmforge::text
