#include "mlm_head.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "lmforge/error.h"

namespace lmforge {

MlmHead::MlmHead(const Options& options, const HeadContext& context) : options_(options) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw ConfigError("", "the mlm head needs a positive input size and vocabulary size, got " +
                              std::to_string(context.input_size) + " and " +
                              std::to_string(context.num_outputs));
  }
  std::int64_t width = context.input_size;
  if (options.tie_weights) {
    torch::Tensor embedding =
        context.backbone != nullptr ? context.backbone->input_embedding() : torch::Tensor();
    if (!embedding.defined()) {
      throw ConfigError("",
                        "tie_weights: true needs a backbone with an input embedding; set the "
                        "head's tie_weights: false");
    }
    if (embedding.size(0) != context.num_outputs) {
      throw ConfigError(
          "", "tie_weights needs the embedding's vocabulary (" + std::to_string(embedding.size(0)) +
                  ") to equal the head's output size (" + std::to_string(context.num_outputs) +
                  "); set the head's tie_weights: false");
    }
    width = embedding.size(1);
    weight_ = embedding;
  } else {
    const double bound = 1.0 / std::sqrt(static_cast<double>(width));
    weight_ = register_parameter(
        "weight", torch::empty({context.num_outputs, width}).uniform_(-bound, bound));
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
