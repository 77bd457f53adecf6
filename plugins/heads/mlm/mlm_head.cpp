#include "mlm_head.h"

#include <torch/torch.h>

#include <string>

#include "common/tied_projection.h"
#include "lmforge/error.h"

namespace lmforge {

MlmHead::MlmHead(const Options& options, const HeadContext& context) : options_(options) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw ConfigError("", "the mlm head needs a positive input size and vocabulary size, got " +
                              std::to_string(context.input_size) + " and " +
                              std::to_string(context.num_outputs));
  }
  // Tied, the dense layer maps the features to the embedding's width (BERT's transform).
  std::int64_t width = context.input_size;
  if (options.tie_weights) {
    weight_ = tied_embedding(context);
    width = weight_.size(1);
  } else {
    weight_ = register_parameter("weight", fresh_projection(context.num_outputs, width));
  }
  dense_ = register_module("dense", torch::nn::Linear(context.input_size, width));
  norm_ = register_module(
      "norm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(options.layer_norm_eps)));
  if (options.bias) bias_ = register_parameter("bias", torch::zeros({context.num_outputs}));
}

torch::Tensor MlmHead::logits(const torch::Tensor& x) {
  return torch::linear(norm_(torch::gelu(dense_(x))), weight_, bias_);
}

torch::Tensor MlmHead::forward(const Features& features) { return logits(features.sequence); }

torch::Tensor MlmHead::forward_loss(const Features& features, const torch::Tensor& targets) {
  const torch::Tensor& x = features.sequence;
  auto chosen = targets.reshape({-1}) != -100;
  auto picked = x.reshape({-1, x.size(-1)}).index({chosen});
  if (picked.size(0) == 0) return x.sum() * 0.0;  // nothing masked: no loss, a defined gradient
  return torch::cross_entropy_loss(logits(picked).to(torch::kFloat),
                                   targets.reshape({-1}).index({chosen}));
}

}  // namespace lmforge
