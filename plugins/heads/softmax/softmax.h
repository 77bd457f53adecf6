#pragma once
// The full softmax over the vocabulary as a word2vec output layer: exact, one dot product per
// vocabulary word per example, so it suits small vocabularies (a few thousand words) and serves
// as the reference the sampled heads approximate.
//
// Example (recipe):
//   head: {type: softmax}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/head.h"
#include "lmforge/options.h"
#include "lmforge/word2vec.h"

namespace lmforge {

struct SoftmaxHeadOptions {
  /// Add a learned per-word bias.
  bool bias = true;

  void visit(OptionVisitor& v) { v.field("bias", bias, "add a learned per-word output bias"); }
};

/// Checkpoint keys: "weight" [V,D] (zero at the start, as word2vec's output vectors) and "bias"
/// [V] when bias is true.
class SoftmaxHead : public Head, public Word2VecHead {
 public:
  using Options = SoftmaxHeadOptions;

  SoftmaxHead(const Options& options, const HeadContext& context);

  /// [...,D] features -> [...,V] logits; the loss is the default cross-entropy.
  torch::Tensor forward(const Features& features) override;

  /// Only checks the vocabulary size: the full softmax needs no tables.
  void prepare(const std::vector<std::int64_t>& counts) override;
  float update(const float* hidden, std::int64_t target, float lr, float* hidden_update,
               Word2VecRng& rng) override;

  const torch::Tensor& weight() const { return weight_; }

 private:
  Options options_;
  std::int64_t dim_;
  std::int64_t vocab_;
  torch::Tensor weight_;
  torch::Tensor bias_;
  float* rows_ = nullptr;  // weight_'s data, refreshed by prepare
  float* biases_ = nullptr;
  bool avx2_;
};

}  // namespace lmforge
