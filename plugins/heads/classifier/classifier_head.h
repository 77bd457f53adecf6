#pragma once
// Sequence classification: pools a backbone's features over the real (unmasked) tokens, then an
// optional hidden layer and a linear layer to one logit per label (ULMFiT's concat pooling by
// default).
//
// Example (recipe):
//   head: {type: classifier, pooling: concat, hidden_size: 50, dropout: 0.1}
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "common/label_layers.h"
#include "lmforge/head.h"
#include "lmforge/options.h"

namespace lmforge {

struct ClassifierHeadOptions : LabelLayerOptions {
  /// How to pool [B,T,H] to [B,H]: last, first, mean, max, or concat = [last, max, mean] (3H).
  ///
  std::string pooling = "concat";

  void visit(OptionVisitor& v) {
    v.choice("pooling", pooling, {"last", "first", "mean", "max", "concat"},
             "how to pool the sequence over its real tokens; concat = [last, max, mean]");
    visit_layers(v);
  }
};

/// Checkpoint keys: "hidden.*" (when hidden_size > 0) and "output.*".
class ClassifierHead : public Head {
 public:
  using Options = ClassifierHeadOptions;

  ClassifierHead(const Options& options, const HeadContext& context);

  /// [B,T,H] features -> [B,num_outputs] logits.
  torch::Tensor forward(const Features& features) override;
  /// Mean cross-entropy of [B,C] logits against [B] labels (-100 = ignore), with label smoothing.
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets) override;

  /// Pools `sequence` [B,T,H] over positions where `mask` [B,T] is true (undefined = all true).
  /// Any padding layout works; a row with no real token pools to zeros (max) or position 0.
  static torch::Tensor pool(const torch::Tensor& sequence, const torch::Tensor& mask,
                            const std::string& pooling);

  const Options& options() const { return options_; }

 private:
  Options options_;
  LabelLayers layers_;
};

}  // namespace lmforge
