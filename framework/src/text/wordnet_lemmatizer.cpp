#include "text/wordnet_lemmatizer.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lmforge/error.h"

namespace lmforge::text {
namespace {

// WordNet's file suffixes, in the Pos order of the header.
constexpr const char* kPosFile[] = {"verb", "adj", "noun", "adv"};

// morphy's detachment rules (suffix -> replacement) per part of speech (WordNet's morph.c).
struct Rule {
  const char* suffix;
  const char* replacement;
};
const std::vector<Rule> kRules[] = {
    /* verb */ {{"s", ""},
                {"ies", "y"},
                {"es", "e"},
                {"es", ""},
                {"ed", "e"},
                {"ed", ""},
                {"ing", "e"},
                {"ing", ""}},
    /* adj  */ {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}},
    /* noun */
    {{"s", ""},
     {"ses", "s"},
     {"xes", "x"},
     {"zes", "z"},
     {"ches", "ch"},
     {"shes", "sh"},
     {"men", "man"},
     {"ies", "y"}},
    /* adv  */ {},
};

std::ifstream open_dict_file(const std::string& dir, const std::string& name,
                             const std::string& place) {
  std::ifstream in(dir + "/" + name);
  if (!in) {
    throw ConfigError(place,
                      "WordNet's dictionary file '" + dir + "/" + name +
                          "' is missing: install wordnet-base (apt-get install "
                          "wordnet-base) or point $WNSEARCHDIR at a WordNet 3.0 dict folder");
  }
  return in;
}

}  // namespace

std::string WordNetLemmatizer::default_dict_dir() {
  const char* env = std::getenv("WNSEARCHDIR");
  return env && *env ? env : "/usr/share/wordnet";
}

WordNetLemmatizer::WordNetLemmatizer(const std::string& place, std::string dict_dir) {
  if (dict_dir.empty()) dict_dir = default_dict_dir();
  std::string line;
  for (int pos = 0; pos < kPosCount; ++pos) {
    // index.POS: one lemma per line as its first field; the license header lines start with
    // spaces.
    std::ifstream index = open_dict_file(dict_dir, std::string("index.") + kPosFile[pos], place);
    while (std::getline(index, line)) {
      if (line.empty() || line[0] == ' ') continue;
      lemmas_[pos].insert(line.substr(0, line.find(' ')));
    }
    // POS.exc: "inflected base [base ...]".
    std::ifstream exc = open_dict_file(dict_dir, std::string(kPosFile[pos]) + ".exc", place);
    while (std::getline(exc, line)) {
      std::istringstream fields(line);
      std::string inflected, base;
      if (!(fields >> inflected)) continue;
      auto& bases = exceptions_[pos][inflected];
      while (fields >> base) bases.push_back(base);
    }
  }
}

std::string WordNetLemmatizer::lemma(std::string_view word_view) const {
  const std::string word(word_view);
  // 1. Irregular forms. The shortest base wins (better -> good rather than well, as NLTK picks).
  for (int pos = 0; pos < kPosCount; ++pos) {
    auto it = exceptions_[pos].find(word);
    if (it == exceptions_[pos].end()) continue;
    const std::string* best = nullptr;
    for (const std::string& base : it->second) {
      if (base != word && (best == nullptr || base.size() < best->size())) best = &base;
    }
    if (best != nullptr) return *best;
  }
  // 2. Already a noun, verb or adverb lemma. Not adjectives: WordNet lists many participles as
  // adjectives (played, tired, interested), and those should still become their verb.
  for (int pos : {kVerb, kNoun, kAdverb}) {
    if (lemmas_[pos].count(word) != 0) return word;
  }
  // 3. Regular inflections, the first rule whose result WordNet knows.
  for (int pos = 0; pos < kPosCount; ++pos) {
    for (const Rule& rule : kRules[pos]) {
      const std::string_view suffix(rule.suffix);
      if (word.size() <= suffix.size() ||
          word.compare(word.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      std::string candidate = word.substr(0, word.size() - suffix.size()) + rule.replacement;
      if (lemmas_[pos].count(candidate) != 0) return candidate;
    }
  }
  return word;
}

}  // namespace lmforge::text
