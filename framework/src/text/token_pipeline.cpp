#include "text/token_pipeline.h"

#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "lmforge/error.h"
#include "text/snowball_stemmer.h"
#include "text/stopwords.h"
#include "text/wordnet_lemmatizer.h"

namespace lmforge {
namespace {

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

void NormalizationOptions::visit(OptionVisitor& v) {
  v.choice("normalize", normalize, {"none", "nfc", "nfkc"},
           "Unicode normalisation before splitting (ICU): nfc composes characters (a decomposed "
           "Hangul syllable becomes one), nfkc also folds compatibility forms (ｆｕｌｌ-width "
           "letters, ligatures, ① -> 1)");
  v.field("stopwords", stopwords,
          "drop these words: english, korean (built-in lists of function words; negations "
          "kept), or a file with one word per line ('#' comments); the list is saved with the "
          "vocabulary");
  std::vector<std::string> stemmers{"none"};
  for (std::string& name : text::SnowballStemmer::languages()) stemmers.push_back(std::move(name));
  v.choice("stem", stem, stemmers,
           "Snowball stemmer (libstemmer): english is Porter2, porter Porter's 1980 algorithm "
           "(running -> run, ran stays ran); words are stemmed after lowercasing if asked");
  v.choice("lemma", lemma, {"none", "english"},
           "english: WordNet lemmas from its exception lists and suffix rules (ran -> run, better "
           "-> good, studies -> study); applied before stem");
}

bool NormalizationOptions::any() const {
  return normalize != "none" || !stopwords.empty() || stem != "none" || lemma != "none";
}

TokenPipeline::TokenPipeline(const NormalizationOptions& options, bool lowercase, std::string place)
    : options_(options), place_(std::move(place)) {
  description_ = "normalize=" + options.normalize + " lowercase=" + (lowercase ? "true" : "false") +
                 " stopwords=" + (options.stopwords.empty() ? "none" : options.stopwords) +
                 " stem=" + options.stem + " lemma=" + options.lemma;
  if (options.normalize != "none" && options.normalize != "nfc" && options.normalize != "nfkc") {
    throw ConfigError(place_ + " option normalize",
                      "unknown normalisation '" + options.normalize + "'; known: none, nfc, nfkc");
  }
  if (!options.stopwords.empty()) {
    if (const auto* builtin = text::builtin_stopwords(options.stopwords)) {
      stopwords_ = *builtin;
    } else {
      stopword_file_ = true;
      std::ifstream in(options.stopwords, std::ios::binary);
      if (in) {
        std::ostringstream content;
        content << in.rdbuf();
        use_stopword_file_content(content.str());
      } else {
        pending_error_ = "'" + options.stopwords +
                         "' is neither a built-in list (english, korean) nor a readable file "
                         "of stop words";
      }
    }
  }
  if (options.stem != "none") {
    stemmer_ = std::make_unique<text::SnowballStemmer>(options.stem, place_ + " option stem");
  }
  if (options.lemma == "english") {
    lemmatizer_ = std::make_unique<text::WordNetLemmatizer>(place_ + " option lemma");
  } else if (options.lemma != "none") {
    throw ConfigError(place_ + " option lemma",
                      "no lemmatizer for '" + options.lemma + "'; known: none, english");
  }
}

TokenPipeline::~TokenPipeline() = default;

void TokenPipeline::use_stopword_file_content(const std::string& content) {
  stopword_file_content_ = content;
  stopwords_ = text::parse_stopwords(content);
  pending_error_.clear();
}

void TokenPipeline::require_ready() const {
  if (!pending_error_.empty()) throw ConfigError(place_ + " option stopwords", pending_error_);
}

std::string TokenPipeline::normalize(std::string_view text) const {
  require_ready();
  if (options_.normalize == "none" || is_ascii(text)) return std::string(text);
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = options_.normalize == "nfkc"
                                           ? icu::Normalizer2::getNFKCInstance(status)
                                           : icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) {
    throw Error(place_ + " option normalize",
                std::string("ICU cannot load its normalisation data: ") + u_errorName(status));
  }
  // fromUTF8 turns ill-formed bytes into U+FFFD, as the tokenizers do everywhere else.
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<std::int32_t>(text.size())));
  const icu::UnicodeString output = normalizer->normalize(input, status);
  if (U_FAILURE(status)) {
    throw Error(place_ + " option normalize",
                std::string("ICU normalisation failed: ") + u_errorName(status));
  }
  std::string out;
  output.toUTF8String(out);
  return out;
}

void TokenPipeline::apply(std::vector<std::string>& tokens) const {
  require_ready();
  if (!stopwords_.empty()) {
    tokens.erase(std::remove_if(tokens.begin(), tokens.end(),
                                [&](const std::string& t) { return stopwords_.count(t) != 0; }),
                 tokens.end());
  }
  if (!lemmatizer_ && !stemmer_) return;
  for (std::string& token : tokens) {
    if (lemmatizer_) token = lemmatizer_->lemma(token);
    if (stemmer_) {
      // Porter2 strips a possessive, so "'s" alone would become empty, which is no token.
      std::string stem = stemmer_->stem(token);
      if (!stem.empty()) token = std::move(stem);
    }
  }
}

}  // namespace lmforge
