#include "tagger_head.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {

TaggerHead::TaggerHead(const Options& options, const HeadContext& context) : options_(options) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw ConfigError("", "the tagger head needs a positive input size and label count, got " +
                              std::to_string(context.input_size) + " and " +
                              std::to_string(context.num_outputs));
  }
  // The recipe reader enforces these ranges; this catches a head built directly in C++.
  if (options.hidden_size < 0) {
    throw ConfigError("", "tagger hidden_size must be >= 0 (0 = no hidden layer)");
  }
  if (options.dropout < 0.0 || options.dropout > 1.0 || options.label_smoothing < 0.0 ||
      options.label_smoothing > 1.0) {
    throw ConfigError("", "tagger dropout and label_smoothing must lie in [0, 1]");
  }

  std::int64_t width = context.input_size;
  if (options.hidden_size > 0) {
    hidden_ = register_module("hidden", torch::nn::Linear(width, options.hidden_size));
    width = options.hidden_size;
  }
  output_ = register_module("output", torch::nn::Linear(width, context.num_outputs));
}

torch::Tensor TaggerHead::forward(const Features& features) {
  TORCH_CHECK(features.sequence.dim() == 3, "tagger head expects features [B,T,H], got ",
              features.sequence.sizes());
  const bool train = is_training();
  const double p = options_.dropout;
  torch::Tensor x = features.sequence;
  if (p > 0) x = torch::dropout(x, p, train);
  if (hidden_) {
    x = torch::relu(hidden_->forward(x));
    if (p > 0) x = torch::dropout(x, p, train);
  }
  return output_->forward(x);
}

torch::Tensor TaggerHead::loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 3 && targets.dim() == 2 && logits.size(0) == targets.size(0) &&
                  logits.size(1) == targets.size(1),
              "tagger loss expects logits [B,T,C] and targets [B,T], got ", logits.sizes(), " and ",
              targets.sizes());
  // Flattened so every real token weighs the same, whichever sentence it belongs to.
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(2)}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).label_smoothing(
          options_.label_smoothing));
}

}  // namespace lmforge
