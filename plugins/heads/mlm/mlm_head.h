#pragma once
// BERT's masked-LM head (Devlin et al. 2019; Hugging Face's BertLMPredictionHead): a dense layer,
// GELU and LayerNorm transform each feature vector, then a projection onto the vocabulary that
// shares its weight with the backbone's input embedding, plus a per-token bias. The loss counts
// only positions whose target is not -100 (the masked tokens), and forward_loss transforms and
// projects only those positions: with 15% masked, the vocabulary-sized logits of the other 85%
// are never computed.
//
// Example (recipe):
//   head: {type: mlm}
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include "lmforge/head.h"
#include "lmforge/options.h"

namespace lmforge {

struct MlmHeadOptions {
  /// Use the backbone's input embedding as the output projection.
  bool tie_weights = true;
  /// Add a learned per-token output bias.
  bool bias = true;
  /// Epsilon of the LayerNorm.
  double layer_norm_eps = 1e-5;

  void visit(OptionVisitor& v) {
    v.field("tie_weights", tie_weights,
            "project with the backbone's input embedding (BERT); the dense layer maps the "
            "backbone's output to the embedding's width");
    v.field("bias", bias, "add a learned per-token output bias");
    v.field("layer_norm_eps", layer_norm_eps, "epsilon of the LayerNorm after the GELU")
        .range(1e-12, 1e-2);
  }
};

/// Checkpoint keys: "dense.{weight,bias}", "norm.{weight,bias}", "bias" (when bias is true) and
/// "weight" (only when untied).
class MlmHead : public Head {
 public:
  using Options = MlmHeadOptions;

  MlmHead(const Options& options, const HeadContext& context);

  /// [B,T,H] features -> [B,T,V] logits at every position.
  torch::Tensor forward(const Features& features) override;
  /// Mean cross-entropy over the positions whose target is not -100, computed from those
  /// positions alone; 0 (with a gradient of zeros) when there is none.
  torch::Tensor forward_loss(const Features& features, const torch::Tensor& targets) override;

  /// The projection weight [V,E]; the backbone's embedding itself when tied.
  const torch::Tensor& weight() const { return weight_; }

 private:
  /// dense -> GELU -> LayerNorm -> projection, for [..., H] features.
  torch::Tensor logits(const torch::Tensor& x);

  Options options_;
  torch::nn::Linear dense_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  // When tied this is the backbone's parameter, held but not registered (as the lm head does):
  // the backbone owns, saves and optimises it once.
  torch::Tensor weight_;
  torch::Tensor bias_;
};

}  // namespace lmforge
