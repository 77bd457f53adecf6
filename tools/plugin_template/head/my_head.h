#pragma once
// my_head: a sequence classifier head.
// The mean of the features over the real (unpadded) tokens, an optional ReLU hidden layer, then
// one logit per label. Written by `lmforge new plugin`; make it yours. In a recipe (with any
// backbone, e.g. one pre-trained by an earlier stage):
//
//   head: {type: my_head, hidden_size: 64}
#include <torch/nn/modules/linear.h>

#include <cstdint>

#include "lmforge/head.h"
#include "lmforge/options.h"

namespace my_head_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct MyHeadOptions {
  std::int64_t hidden_size = 64;
  double dropout = 0.1;

  void visit(lmforge::OptionVisitor& v) {
    v.field("hidden_size", hidden_size, "units in the ReLU hidden layer (0 = none)").non_negative();
    v.field("dropout", dropout, "dropout on the pooled features and the hidden layer")
        .range(0.0, 1.0);
  }
};

// [B,T,H] features -> [B,num_outputs] logits. The loss is the base class's cross-entropy
// (targets -100 ignored); override `loss` for another one.
class MyHead : public lmforge::Head {
 public:
  using Options = MyHeadOptions;

  MyHead(const Options& options, const lmforge::HeadContext& context);

  torch::Tensor forward(const lmforge::Features& features) override;

 private:
  Options options_;
  torch::nn::Linear hidden_{nullptr};
  torch::nn::Linear output_{nullptr};
};

}  // namespace my_head_plugin
