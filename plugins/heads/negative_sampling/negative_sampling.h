#pragma once
// word2vec's negative sampling (Mikolov et al. 2013): for each (hidden vector, target word) pair,
// raise sigmoid(h . w_target) and lower sigmoid(h . w_noise) for `negative` words drawn from the
// unigram distribution raised to `power`. The noise words come from an alias table (Walker 1977):
// one random number and one 12-byte entry per draw, exact proportions, and a table the size of
// the vocabulary (word2vec.c's is 10^8 entries, gensim's a binary search).
//
// Example (recipe):
//   head: {type: negative_sampling, negative: 5}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/head.h"
#include "lmforge/options.h"
#include "lmforge/word2vec.h"

namespace lmforge {

struct NegativeSamplingOptions {
  /// Noise words per target. Default 5 (word2vec.c, gensim and fastText).
  std::int64_t negative = 5;
  /// Exponent applied to the unigram counts of the noise distribution. Default 0.75.
  double power = 0.75;

  void visit(OptionVisitor& v) {
    v.field("negative", negative, "noise words drawn per target word").positive();
    v.field("power", power,
            "exponent on the word counts of the noise distribution (0.75 as in word2vec; 0 = "
            "uniform, 1 = unigram)")
        .range(0.0, 2.0);
  }
};

/// Checkpoint key: "weight" [V,D], the output word vectors, zero at the start as in word2vec.c.
class NegativeSamplingHead : public Head, public Word2VecHead {
 public:
  using Options = NegativeSamplingOptions;

  NegativeSamplingHead(const Options& options, const HeadContext& context);

  /// [...,D] features -> [...,V] scores h . w (the logits of each word's binary classifier).
  torch::Tensor forward(const Features& features) override;
  /// Negative-sampling loss of `logits` against `targets` (-100 = ignore), `negative` noise words
  /// per target drawn with torch's generator: -log sigmoid(s_target) - sum log sigmoid(-s_noise).
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets) override;

  void prepare(const std::vector<std::int64_t>& counts) override;
  float update(const float* hidden, std::int64_t target, float lr, float* hidden_update,
               Word2VecRng& rng) override;
  /// One draw of `negative` noise words shared by the block's vectors (pWord2Vec).
  float update_block(const float* const* hidden, const std::int64_t* targets, std::int64_t count,
                     std::int64_t dim, float lr, float* hidden_update, Word2VecRng& rng) override;

  /// One draw from the noise distribution (after prepare).
  std::int64_t sample(Word2VecRng& rng) const;
  /// Probability that `sample` returns `id`, read back from the alias table.
  double noise_probability(std::int64_t id) const;
  const torch::Tensor& weight() const { return weight_; }
  const Options& options() const { return options_; }

 private:
  struct AliasEntry {
    std::uint32_t threshold;  // keep `id` when 32 random bits fall below this, else take `alias`
    std::int32_t id;
    std::int32_t alias;
  };

  Options options_;
  std::int64_t dim_;
  torch::Tensor weight_;
  torch::Tensor noise_;  // [V] probabilities, for the autograd loss
  std::vector<std::int64_t> counts_;
  std::vector<AliasEntry> table_;
  float* rows_ = nullptr;  // weight_'s data, refreshed by prepare
  word2vec::SigmoidTable sigmoid_;
  bool avx2_;
};

}  // namespace lmforge
