#pragma once
// The layers the classifier and tagger heads share after their own reading of the features
// (pooled per text, or per token): dropout, an optional hidden ReLU layer, dropout, and a linear
// layer to one logit per label, trained with label-smoothed cross-entropy. Registered on the head
// itself as "hidden" and "output", so checkpoints keep their keys. Header-only: each head compiles
// its own copy and no plugin links another (plugins/CMakeLists.txt: lmforge_plugins_common).
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "lmforge/error.h"
#include "lmforge/options.h"

namespace lmforge {

struct LabelLayerOptions {
  /// Units in a hidden ReLU layer; 0 = none.
  std::int64_t hidden_size = 0;
  /// Dropout on the features and after the hidden layer.
  double dropout = 0.1;
  /// Label smoothing in the cross-entropy loss.
  double label_smoothing = 0.0;

  void visit_layers(OptionVisitor& v) {
    v.field("hidden_size", hidden_size, "units in a hidden ReLU layer (0 = none)").non_negative();
    v.field("dropout", dropout, "dropout on the features and after the hidden layer")
        .range(0.0, 1.0);
    v.field("label_smoothing", label_smoothing, "label smoothing in the cross-entropy loss")
        .range(0.0, 1.0);
  }
};

class LabelLayers {
 public:
  /// Registers "hidden" (when hidden_size > 0) and "output" on `owner`; `head` names the head in
  /// messages. The recipe reader checks the ranges; this catches a head built directly in C++.
  void build(torch::nn::Module& owner, const LabelLayerOptions& options, std::int64_t input_size,
             std::int64_t num_outputs, const std::string& head) {
    if (input_size <= 0 || num_outputs <= 0) {
      throw ConfigError("", "the " + head + " head needs a positive input size and label count, " +
                                "got " + std::to_string(input_size) + " and " +
                                std::to_string(num_outputs));
    }
    // The ranges visit_layers declares, for a head built in C++ without a recipe.
    check_declared([&](OptionVisitor& v) { LabelLayerOptions(options).visit_layers(v); }, head);
    options_ = options;
    std::int64_t width = input_size;
    if (options.hidden_size > 0) {
      hidden_ = owner.register_module("hidden", torch::nn::Linear(width, options.hidden_size));
      width = options.hidden_size;
    }
    output_ = owner.register_module("output", torch::nn::Linear(width, num_outputs));
  }

  /// [..., H] -> [..., num_outputs].
  torch::Tensor forward(torch::Tensor x, bool training) {
    const double p = options_.dropout;
    if (p > 0) x = torch::dropout(x, p, training);
    if (hidden_) {
      x = torch::relu(hidden_->forward(x));
      if (p > 0) x = torch::dropout(x, p, training);
    }
    return output_->forward(x);
  }

  /// Mean cross-entropy of [N,C] logits against [N] targets, -100 ignored, label-smoothed.
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets) const {
    return torch::nn::functional::cross_entropy(
        logits, targets,
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).label_smoothing(
            options_.label_smoothing));
  }

 private:
  LabelLayerOptions options_;
  torch::nn::Linear hidden_{nullptr};
  torch::nn::Linear output_{nullptr};
};

}  // namespace lmforge
