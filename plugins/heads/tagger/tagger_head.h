#pragma once
// Sequence labelling: one label per token, read off each position's features by an optional
// hidden layer and a linear layer. Padded positions get logits too; the task marks their targets
// -100 so they never reach the loss.
//
// Example (recipe):
//   head: {type: tagger, hidden_size: 64, dropout: 0.2}
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>

#include "lmforge/head.h"
#include "lmforge/options.h"

namespace lmforge {

struct TaggerHeadOptions {
  /// Units in a hidden ReLU layer applied at every position; 0 = none. Default 0.
  std::int64_t hidden_size = 0;
  /// Dropout on the features and after the hidden layer. Default 0.1.
  double dropout = 0.1;
  /// Label smoothing in the cross-entropy loss. Default 0.
  double label_smoothing = 0.0;

  void visit(OptionVisitor& v) {
    v.field("hidden_size", hidden_size, "units in a hidden ReLU layer at every token (0 = none)")
        .non_negative();
    v.field("dropout", dropout, "dropout on the token features and after the hidden layer")
        .range(0.0, 1.0);
    v.field("label_smoothing", label_smoothing, "label smoothing in the cross-entropy loss")
        .range(0.0, 1.0);
  }
};

/// Checkpoint keys: "hidden.*" (when hidden_size > 0) and "output.*".
class TaggerHead : public Head {
 public:
  using Options = TaggerHeadOptions;

  TaggerHead(const Options& options, const HeadContext& context);

  /// [B,T,H] features -> [B,T,num_outputs] logits.
  torch::Tensor forward(const Features& features) override;
  /// Mean cross-entropy over the positions whose target is not -100, with label smoothing.
  /// `logits` [B,T,C], `targets` [B,T].
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets) override;

  const Options& options() const { return options_; }

 private:
  Options options_;
  torch::nn::Linear hidden_{nullptr};
  torch::nn::Linear output_{nullptr};
};

}  // namespace lmforge
