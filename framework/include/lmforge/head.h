#pragma once
// A head maps a backbone's features to logits and a loss. Heads are what a user swaps.
//
// Writing one: `using Options = MyOptions;`, a constructor `MyHead(const Options&, const
// HeadContext&)`, and `reg.head<MyHead>("my_head", "one line")` in LMFORGE_PLUGIN. A pooled head
// (one answer per text, for classification) reduces Features::sequence over T using its mask and
// returns [B,num_outputs]; a per-token head (lm, tagger) returns [B,T,num_outputs]. Tasks check the
// shape and name the head they need when it does not fit.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>

#include "lmforge/backbone.h"
#include "lmforge/export.h"

namespace lmforge {

struct HeadContext {
  std::int64_t input_size = 0;   ///< backbone output size H
  std::int64_t num_outputs = 0;  ///< vocabulary size (LM) or number of labels (classifier)
  Backbone* backbone = nullptr;  ///< for weight tying; the head must not own it
};

class LMFORGE_API Head : public torch::nn::Module {
 public:
  /// Logits: [B,T,num_outputs] for per-token heads, [B,num_outputs] for pooled heads.
  virtual torch::Tensor forward(const Features& features) = 0;
  /// Mean loss of `logits` against `targets` (same leading shape; -100 = ignore).
  virtual torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets);
  /// loss(forward(features), targets), which a head may compute without materialising the
  /// logits (the lm head fuses its projection with the loss). Tasks call this when they need the
  /// loss only.
  virtual torch::Tensor forward_loss(const Features& features, const torch::Tensor& targets) {
    return loss(forward(features), targets);
  }
};

}  // namespace lmforge
