#pragma once
// Word vectors and what users do with them: nearest neighbours, analogies, similarity, k-means
// clusters, outliers, word2vec-format export, and the standard evaluations (analogy accuracy as
// gensim computes it; Spearman correlation with human similarity judgements).
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lmforge/export.h"
#include "lmforge/vocabulary.h"

namespace lmforge {

struct Neighbour {
  std::string word;
  double score;  ///< cosine similarity, or negative L2 distance
};

struct AnalogyResult {
  /// section name -> (correct, total)
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> sections;
  std::int64_t correct = 0;
  std::int64_t total = 0;    ///< questions whose four words are all in the restricted vocabulary
  std::int64_t skipped = 0;  ///< questions with an out-of-vocabulary word
  std::vector<std::string> section_order;  ///< section names in file order (for reporting)
  double accuracy() const { return total ? double(correct) / double(total) : 0.0; }
};

struct SimilarityResult {
  double spearman = 0;     ///< NaN when undefined (fewer than two pairs, or constant scores)
  std::int64_t pairs = 0;  ///< pairs with both words known
  std::int64_t skipped = 0;
  double pearson = 0;  ///< NaN when undefined, like spearman
  double coverage() const {
    return pairs + skipped ? double(pairs) / double(pairs + skipped) : 0.0;
  }
};

/// A vocabulary and one vector per token ([V,D], float, CPU). Specials (<pad>, <unk>, <bos>,
/// <eos>) are never returned as neighbours or answers.
class LMFORGE_API WordVectors {
 public:
  WordVectors(Vocabulary vocabulary, torch::Tensor vectors);
  const Vocabulary& vocabulary() const { return vocabulary_; }
  const torch::Tensor& vectors() const { return vectors_; }

  /// Lets nearest, analogy and similarity take words outside the vocabulary: `vector_of(word)`
  /// gives such a word's vector [D], or an undefined tensor when it has none. A subword model
  /// composes them from character n-grams (lmforge/word_vector_table.h).
  void set_unknown_word_vectors(std::function<torch::Tensor(const std::string&)> vector_of);

  /// Throws ConfigError naming the word when it is not in the vocabulary and has no vector.
  std::vector<Neighbour> nearest(const std::string& word, std::int64_t k,
                                 const std::string& metric = "cosine") const;
  /// b - a + c (king - man + woman), 3CosAdd over unit vectors; a, b, c excluded from answers.
  std::vector<Neighbour> analogy(const std::string& a, const std::string& b, const std::string& c,
                                 std::int64_t k) const;
  double similarity(const std::string& a, const std::string& b) const;
  /// k-means (cosine, k-means++ init, seeded) over the `limit` most frequent words
  /// (0 = all); returns cluster id per word of that subset, in vocabulary order.
  std::vector<std::int64_t> cluster(std::int64_t k, std::int64_t limit, std::uint64_t seed,
                                    std::int64_t iterations = 50) const;
  /// Words farthest from their cluster centre, most distant first; score = cosine similarity to
  /// the centre.
  std::vector<Neighbour> outliers(std::int64_t k, std::int64_t limit, std::int64_t count,
                                  std::uint64_t seed) const;
  /// word2vec text ("V D" header, then "word v1 ... vD") or binary format, as gensim's
  /// KeyedVectors.load_word2vec_format reads; specials are not written. Written atomically.
  /// Tokens that the format cannot hold (containing a space or a newline, e.g. a character
  /// vocabulary's " ") are left out too; returns the number of vectors written.
  std::int64_t save_word2vec(const std::string& path, bool binary) const;
  /// Reads either format (binary: little-endian float32, with or without word2vec.c's newline
  /// after each vector). Words get ids after the four specials in file order, so the file order
  /// is taken as frequency order; a repeated word keeps its first vector, as in gensim.
  static WordVectors load_word2vec(const std::string& path, bool binary);
  /// GloVe's text format: no header, "word v1 ... vD" per line, D taken from the first line.
  /// Throws DataError naming path:line for a ragged row or a field that is not a number, and
  /// for a first line that is a word2vec header ("V D": give format word2vec instead).
  static WordVectors load_glove(const std::string& path);

  /// questions-words.txt format (": section" lines, then "a b c d"), case-insensitive,
  /// restricted to the `restrict_vocab` most frequent words as gensim does (0 = all).
  AnalogyResult evaluate_analogies(const std::string& path, std::int64_t restrict_vocab) const;
  /// "word1 word2 score" lines (tab, comma or space separated, '#' comments skipped; WordSim-353
  /// and SimLex-999 layouts, header line tolerated), case-insensitive like gensim's
  /// evaluate_word_pairs. Throws DataError naming path:line on a malformed line.
  SimilarityResult evaluate_similarity(const std::string& path) const;

 private:
  /// The vector of `word` [D] and its id (-1 for a word outside the vocabulary).
  torch::Tensor vector_of(const std::string& word, std::int64_t& id) const;

  Vocabulary vocabulary_;
  std::function<torch::Tensor(const std::string&)> unknown_word_vectors_;
  torch::Tensor vectors_;
  torch::Tensor norms_;  // L2 norm of each row
  torch::Tensor unit_;   // rows normalised to length 1 (a zero row stays zero)
};

}  // namespace lmforge
