#pragma once
// Word-level tokenizer. With `split: punctuation` (the default) Unicode whitespace separates words
// and every punctuation character is a token of its own, so "안녕하세요, 세계!" gives 안녕하세요 ,
// 세계 ! and Korean words are never cut inside a syllable. Two things in ready-tokenised corpora
// stay whole: angle-bracketed specials such as `<unk>` or `<eos>` (WikiText writes `<unk>` in its
// text) and WikiText's number separators `@-@`, `@,@`, `@.@`.
//
// With `split: whitespace` the tokens are exactly the whitespace-separated fields. That is how
// Penn Treebank and WikiText-2 are meant to be read (their text is already tokenised: `'s` and
// `n't` are words of their own), so only this mode reproduces their published vocabularies and
// token counts, and with them perplexities comparable with the literature.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/registry.h"
#include "lmforge/tokenizer.h"
#include "text/token_pipeline.h"

namespace lmforge {

struct WordTokenizerOptions {
  /// "punctuation": punctuation characters are tokens of their own; "whitespace": tokens are
  /// exactly the whitespace-separated fields (ready-tokenised corpora such as PTB, WikiText).
  std::string split = "punctuation";
  bool lowercase = false;
  /// Unicode normalisation, stop words, lemma and stem (see text/token_pipeline.h).
  NormalizationOptions normalization;
  VocabularyOptions vocab;
  void visit(OptionVisitor& v);
};

class WordTokenizer : public Tokenizer {
 public:
  using Options = WordTokenizerOptions;
  WordTokenizer(const WordTokenizerOptions& options, const NoContext& context);

  /// split: punctuation: whitespace, control characters and byte-order marks separate, and each
  /// punctuation character is a token. split: whitespace: only whitespace separates (as Python's
  /// str.split()). Ill-formed UTF-8 becomes U+FFFD; the normalisation pipeline applies to both.
  std::vector<std::string> split(std::string_view text) const override;
  /// Tokens separated by single spaces.
  std::string join(const std::vector<std::string>& tokens) const override;

  /// Stores the normalisation pipeline (and a stop-word file's list) with the vocabulary.
  void build_vocabulary() override;
  /// Refuses a vocabulary built with another normalisation pipeline; takes a stop-word list
  /// stored with it in place of the original file.
  void set_vocabulary(Vocabulary vocab) override;

  /// Attachment names under which the pipeline is stored.
  static constexpr const char* kPipelineAttachment = "word-pipeline.txt";
  static constexpr const char* kStopwordsAttachment = "stopwords.txt";

 private:
  std::vector<std::string> split_on_whitespace(std::string_view text) const;
  std::vector<std::string> split_on_punctuation(std::string_view text) const;

  bool whitespace_only_;
  bool lowercase_;
  bool normalizing_;
  std::shared_ptr<TokenPipeline> pipeline_;  // shared: a tokenizer is copyable
};

}  // namespace lmforge
