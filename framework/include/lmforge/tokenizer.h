#pragma once
// Text <-> token ids. A tokenizer splits text into token strings; the shared base class builds the
// vocabulary from a corpus (min_count, max_size), encodes and decodes. All text is UTF-8: splitting
// never breaks a multi-byte character, so Korean stays whole syllables and words.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lmforge/export.h"
#include "lmforge/options.h"
#include "lmforge/vocabulary.h"

namespace lmforge {

/// Vocabulary-building options shared by every tokenizer.
struct LMFORGE_API VocabularyOptions {
  std::int64_t min_count = 1;  ///< tokens seen fewer times become <unk>
  std::int64_t max_size = 0;  ///< keep at most this many tokens (0 = no limit), most frequent first
  void visit(OptionVisitor& v);
};

class LMFORGE_API Tokenizer {
 public:
  explicit Tokenizer(VocabularyOptions vocab_options) : vocab_options_(vocab_options) {}
  virtual ~Tokenizer() = default;

  /// Splits one piece of text into token strings (no specials added).
  virtual std::vector<std::string> split(std::string_view text) const = 0;
  /// Joins token strings back into text (inverse of split up to whitespace).
  virtual std::string join(const std::vector<std::string>& tokens) const = 0;

  /// Counts tokens of one text; call for every line of the corpus, then `build_vocabulary`.
  /// Virtual so that a tokenizer which learns more than counts (a sentencepiece model trained on
  /// a sample of the lines) can collect what it needs.
  virtual void count(std::string_view text);
  /// Freezes the vocabulary from the counts: min_count, max_size; ties broken by first appearance.
  virtual void build_vocabulary();
  /// Replaces the vocabulary (e.g. one loaded from an earlier stage). A tokenizer that keeps
  /// state beside the token table (a sentencepiece model, a stop-word list) restores it here from
  /// the vocabulary's attachments and throws DataError when they are missing or do not match.
  virtual void set_vocabulary(Vocabulary vocab) { vocab_ = std::move(vocab); }
  const Vocabulary& vocabulary() const { return vocab_; }

  /// Token ids of `text`; unknown tokens map to <unk>.
  virtual std::vector<std::int64_t> encode(std::string_view text) const;
  /// Text of `ids`, specials (<pad>, <bos>, <eos>) dropped.
  virtual std::string decode(const std::vector<std::int64_t>& ids) const;

 protected:
  /// For subclasses that build the table themselves (set_vocabulary may be overridden).
  Vocabulary& mutable_vocabulary() { return vocab_; }
  const VocabularyOptions& vocabulary_options() const { return vocab_options_; }

 private:
  VocabularyOptions vocab_options_;
  Vocabulary vocab_;
  std::unordered_map<std::string, std::int64_t> pending_counts_;
  std::vector<std::string> first_seen_order_;
};

}  // namespace lmforge
