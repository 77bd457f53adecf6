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

#include "common/label_layers.h"
#include "lmforge/head.h"
#include "lmforge/options.h"

namespace lmforge {

struct TaggerHeadOptions : LabelLayerOptions {
  void visit(OptionVisitor& v) { visit_layers(v); }
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
  LabelLayers layers_;
};

}  // namespace lmforge
