#include "lm_head.h"

#include <torch/torch.h>

#include <string>

#include "common/tied_projection.h"
#include "fused_cross_entropy.h"
#include "lmforge/error.h"

namespace lmforge {

LmHead::LmHead(const Options& options, const HeadContext& context) : options_(options) {
  check_options(options, "lm");
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw ConfigError("", "the lm head needs a positive input size and vocabulary size, got " +
                              std::to_string(context.input_size) + " and " +
                              std::to_string(context.num_outputs));
  }
  if (options.tie_weights) {
    torch::Tensor embedding = tied_embedding(context);
    // No layer between the features and the projection: their widths must agree.
    if (embedding.size(1) != context.input_size) {
      throw ConfigError(
          "", "tie_weights needs the backbone's output size (" +
                  std::to_string(context.input_size) + ") to equal its embedding size (" +
                  std::to_string(embedding.size(1)) +
                  "); set the backbone's tie_output: true or the head's tie_weights: false");
    }
    weight_ = embedding;
  } else {
    weight_ =
        register_parameter("weight", fresh_projection(context.num_outputs, context.input_size));
  }
  if (options.bias) bias_ = register_parameter("bias", torch::zeros({context.num_outputs}));
}

torch::Tensor LmHead::forward(const Features& features) {
  torch::Tensor x = features.sequence;
  if (options_.dropout > 0) x = torch::dropout(x, options_.dropout, is_training());
  return torch::linear(x, weight_, bias_);
}

torch::Tensor LmHead::forward_loss(const Features& features, const torch::Tensor& targets) {
  torch::Tensor x = features.sequence;
  if (options_.dropout > 0) x = torch::dropout(x, options_.dropout, is_training());
  return fused_linear_cross_entropy(x.reshape({-1, x.size(-1)}), weight_, bias_,
                                    targets.reshape({-1}));
}

}  // namespace lmforge
