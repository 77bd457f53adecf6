#pragma once
// Text normalisation for the word tokenizer, the preprocessing the textbooks teach, applied in a
// fixed order: Unicode normalisation (ICU: NFC composes, NFKC also folds compatibility forms such
// as full-width letters, ligatures and circled digits) before splitting; then, per token, stop
// words out, lemma (WordNet), stem (Snowball). The same object serves training and inference, and
// its description is stored with the vocabulary, so a reloaded run applies exactly this pipeline.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "lmforge/options.h"

namespace lmforge {
namespace text {
class SnowballStemmer;
class WordNetLemmatizer;
}  // namespace text

struct NormalizationOptions {
  std::string normalize = "none";  ///< none | nfc | nfkc
  std::string stopwords;           ///< "" | english | korean | a file, one word per line
  std::string stem = "none";       ///< none | a Snowball language (english, porter, german, ...)
  std::string lemma = "none";      ///< none | english (WordNet)
  void visit(OptionVisitor& v);
  bool any() const;
};

class TokenPipeline {
 public:
  /// `place` names the tokenizer in errors (a stop-word file that does not exist, a missing
  /// WordNet). A stop-word file is read here; when it is missing the error waits until the list
  /// is needed, so a run whose vocabulary carries the list reloads without the original file.
  TokenPipeline(const NormalizationOptions& options, bool lowercase, std::string place);
  ~TokenPipeline();

  /// Unicode normalisation of the whole text (unchanged for "none" and for ASCII).
  std::string normalize(std::string_view text) const;
  /// Drops stop words, then replaces each token by its lemma and/or stem.
  void apply(std::vector<std::string>& tokens) const;

  /// One line naming every step, e.g. "normalize=nfkc lowercase=true stopwords=english
  /// stem=porter lemma=none"; what the vocabulary stores.
  const std::string& description() const { return description_; }
  /// The stop-word file's content when `stopwords` names a file (empty otherwise).
  const std::string& stopword_file_content() const { return stopword_file_content_; }
  bool uses_stopword_file() const { return stopword_file_; }
  /// Takes the list from a vocabulary's copy of the file instead of the file itself.
  void use_stopword_file_content(const std::string& content);

 private:
  void require_ready() const;

  NormalizationOptions options_;
  std::string place_;
  std::string description_;
  bool stopword_file_ = false;
  std::string stopword_file_content_;
  std::string pending_error_;  // the stop-word file could not be read
  std::unordered_set<std::string> stopwords_;
  std::unique_ptr<text::SnowballStemmer> stemmer_;
  std::unique_ptr<text::WordNetLemmatizer> lemmatizer_;
};

}  // namespace lmforge
