#include "my_head.h"

#include <string>

#include "lmforge/error.h"
#include "lmforge/plugin.h"

namespace my_head_plugin {

MyHead::MyHead(const Options& options, const lmforge::HeadContext& context) : options_(options) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw lmforge::ConfigError("head my_head",
                               "needs a positive feature width and label count, got " +
                                   std::to_string(context.input_size) + " and " +
                                   std::to_string(context.num_outputs));
  }
  std::int64_t width = context.input_size;
  if (options.hidden_size > 0) {
    hidden_ = register_module("hidden", torch::nn::Linear(width, options.hidden_size));
    width = options.hidden_size;
  }
  output_ = register_module("output", torch::nn::Linear(width, context.num_outputs));
}

torch::Tensor MyHead::forward(const lmforge::Features& features) {
  const torch::Tensor& x = features.sequence;
  TORCH_CHECK(x.dim() == 3, "my_head expects features [B,T,H], got ", x.sizes());
  torch::Tensor pooled;
  if (features.mask.defined()) {
    // Padding must not move the mean, or a sentence's label would depend on its batch-mates.
    auto weights = features.mask.to(x.scalar_type()).unsqueeze(-1);
    pooled = (x * weights).sum(1) / weights.sum(1).clamp_min(1);
  } else {
    pooled = x.mean(1);
  }
  const double p = options_.dropout;
  const bool train = is_training();
  pooled = torch::dropout(pooled, p, train);
  if (hidden_) pooled = torch::dropout(torch::relu(hidden_->forward(pooled)), p, train);
  return output_->forward(pooled);
}

}  // namespace my_head_plugin

// The one exported entry point: the loader checks the plugin ABI and LibTorch version this file was
// compiled with, then calls this to register the component under the name recipes use.
LMFORGE_PLUGIN(my_head) {
  reg.head<my_head_plugin::MyHead>(
      "my_head", "sequence classifier: masked mean pooling, ReLU hidden layer, linear");
}
