#pragma once
// Per-token logits over the vocabulary, optionally sharing its weight matrix with the backbone's
// input embedding (Press & Wolf 2017; AWD-LSTM).
//
// Example (recipe):
//   head: {type: lm, tie_weights: true}
#include <torch/types.h>

#include "lmforge/head.h"
#include "lmforge/options.h"

namespace lmforge {

struct LmHeadOptions {
  /// Use the backbone's input embedding as the output weight.
  bool tie_weights = true;
  /// Dropout on the features before the projection.
  double dropout = 0.0;
  /// Add a learned per-token bias.
  bool bias = true;

  void visit(OptionVisitor& v) {
    v.field("tie_weights", tie_weights,
            "use the backbone's input embedding as the output weight (needs the backbone's output "
            "size to equal its embedding size)");
    v.field("dropout", dropout, "dropout on the features before the projection").range(0.0, 1.0);
    v.field("bias", bias, "add a learned per-token output bias");
  }
};

/// Checkpoint keys: "weight" (only when untied) and "bias" (when bias is true).
class LmHead : public Head {
 public:
  using Options = LmHeadOptions;

  LmHead(const Options& options, const HeadContext& context);

  /// [B,T,H] features -> [B,T,V] logits.
  torch::Tensor forward(const Features& features) override;
  /// The same loss as loss(forward(features), targets), with the projection fused into the
  /// cross-entropy (fused_cross_entropy.h): the [B,T,V] logits are never stored whole.
  torch::Tensor forward_loss(const Features& features, const torch::Tensor& targets) override;

  /// The projection weight [V,H]; the backbone's embedding itself when tied.
  const torch::Tensor& weight() const { return weight_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  // When tied this is the backbone's parameter, held but not registered: the backbone owns it, so
  // it is saved, moved and optimised once, and Module::to() updates it in place for both owners.
  torch::Tensor weight_;
  torch::Tensor bias_;
};

}  // namespace lmforge
