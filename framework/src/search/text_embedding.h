#pragma once
// Texts as vectors, for search, clustering and outliers over lines of a file: the mean of the
// words' vectors for a stage that trained word vectors (word2vec, GloVe), or the mean of the
// backbone's features over the real tokens for a sequence model (a language model, a
// classifier's body). Either way the vectors come from the stage as trained; nothing is fitted.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "train/stage_artifacts.h"

namespace lmforge {

/// The lines of a UTF-8 text file, in order (an empty line stays, so line i is line i). Throws
/// DataError naming path:line for a line that is not valid UTF-8, and the file when it cannot be
/// read or holds no text.
std::vector<std::string> read_corpus(const std::string& path, const std::string& option);

class TextEmbedder {
 public:
  /// Throws ConfigError naming the stage when its backbone has neither an input embedding (word
  /// vectors) nor is the body of a sequence model.
  explicit TextEmbedder(const LoadedStage& stage);
  /// [N,D] float on the CPU, one row per text. A text with no known token is a zero row.
  torch::Tensor embed(const std::vector<std::string>& texts) const;
  /// "mean of word vectors" or "mean of backbone features".
  std::string method() const;

 private:
  const LoadedStage& stage_;
  bool word_vectors_ = false;
  torch::Tensor table_;  // word vectors [V,D] (word-vector stages)
};

struct SearchHit {
  std::int64_t line = 0;  ///< index into the corpus
  double score = 0;       ///< cosine similarity
};

/// The `k` rows of `corpus` [N,D] closest to `query` [D] by cosine, best first.
std::vector<SearchHit> nearest_rows(const torch::Tensor& corpus, const torch::Tensor& query,
                                    std::int64_t k);

/// Rows normalised to unit length (a zero row stays zero).
torch::Tensor unit_rows(const torch::Tensor& rows);

}  // namespace lmforge
