#pragma once
// word2vec's hierarchical softmax (Morin & Bengio 2005; Mikolov et al. 2013): the vocabulary is
// the leaves of a Huffman tree built from word counts, and p(word | h) is the product of binary
// decisions sigmoid(+-h . v_node) along the word's path. Frequent words get short paths, so one
// example costs about log2(V) dot products, fewer for the words that occur most.
//
// Example (recipe):
//   head: {type: hierarchical_softmax}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/head.h"
#include "lmforge/options.h"
#include "lmforge/word2vec.h"

namespace lmforge {

/// A word's path from the root: the inner nodes visited and the branch taken at each
/// (word2vec.c's `point` and `code`: code 1 is the branch whose probability is sigmoid(-h . v)).
struct HuffmanPath {
  std::vector<std::int32_t> nodes;
  std::vector<std::uint8_t> codes;
};

/// Huffman codes for `counts` as word2vec.c builds them: words in order of decreasing count
/// (ties by id), the two least frequent subtrees merged first, the second of them on branch 1;
/// inner node i is the i-th merge, so the root is node V-2. Zero counts are allowed.
std::vector<HuffmanPath> build_huffman_tree(const std::vector<std::int64_t>& counts);

/// Checkpoint key: "weight" [V-1,D], one vector per inner node, zero at the start as in word2vec.c.
class HierarchicalSoftmaxHead : public Head, public Word2VecHead {
 public:
  using Options = NoOptions;

  HierarchicalSoftmaxHead(const Options& options, const HeadContext& context);

  /// [...,D] features -> [...,V] log-probabilities of every word (exact and normalised; it visits
  /// every leaf, so it suits evaluation on small vocabularies; training uses `update`).
  torch::Tensor forward(const Features& features) override;
  /// Mean negative log-likelihood of `targets` (-100 = ignore) under `forward`'s log-probabilities.
  torch::Tensor loss(const torch::Tensor& log_probs, const torch::Tensor& targets) override;

  void prepare(const std::vector<std::int64_t>& counts) override;
  float update(const float* hidden, std::int64_t target, float lr, float* hidden_update,
               Word2VecRng& rng) override;

  /// Word `id`'s path (after prepare).
  HuffmanPath path(std::int64_t id) const;
  const torch::Tensor& weight() const { return weight_; }

 private:
  std::int64_t dim_;
  std::int64_t vocab_;
  torch::Tensor weight_;
  std::vector<std::int64_t> counts_;
  // Paths flattened: word w's path is [offset_[w], offset_[w + 1]) of nodes_ and labels_.
  std::vector<std::int64_t> offset_;
  std::vector<std::int32_t> nodes_;
  std::vector<float> labels_;  // 1 - code: the target of the node's binary classifier
  torch::Tensor path_nodes_;   // [V,L] for forward, padded with node 0
  torch::Tensor path_signs_;   // [V,L] +1 (code 0), -1 (code 1), 0 (padding)
  float* rows_ = nullptr;      // weight_'s data, refreshed by prepare
  word2vec::SigmoidTable sigmoid_;
  bool avx2_;
};

}  // namespace lmforge
