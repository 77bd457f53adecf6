#pragma once
// A backbone maps token ids to features. It is what pre-training produces and fine-tuning reuses.
//
// Writing one (the contract the registry, the heads and the trainer rely on):
//   struct MyOptions { std::int64_t hidden_size = 128;
//                      void visit(lmforge::OptionVisitor& v) { ... } };  // lmforge/options.h
//   class MyBackbone : public lmforge::Backbone {
//    public:
//     using Options = MyOptions;                                  // the registry reads this
//     MyBackbone(const Options& options, const lmforge::BackboneContext& context);
//     ...
//   };
//   LMFORGE_PLUGIN(my_plugin) { reg.backbone<MyBackbone>("my_backbone", "one line"); }
// Declare each option's checks in `visit` (positive(), range(), ...): they are checked where the
// recipe is read, with its file:line:col, and `lmforge validate` also constructs the backbone
// once (vocab_size 64), so a cross-field check the constructor makes (throw ConfigError with an
// empty place; the recipe place is added) surfaces at validation too.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

/// Recurrent state or key/value cache, opaque to everything but the backbone that made it.
using State = std::vector<torch::Tensor>;

struct BackboneInput {
  torch::Tensor tokens;  ///< [B,T] int64
  torch::Tensor mask;    ///< [B,T] bool, true for real tokens; undefined = all real
  State state;           ///< carried from the previous call (empty = start fresh)
};

/// Always per position, even for an encoder that pools internally: a backbone that computes one
/// vector per text (a CNN with max-over-time pooling) returns it as [B,1,H] with an undefined
/// mask, and pooled heads (classifier: pooling first/mean/max/concat) reduce over T as usual, so
/// any head works with any backbone. Per-token heads (lm, tagger) need the real T.
struct Features {
  torch::Tensor sequence;  ///< [B,T,H] (or [B,1,H] for a backbone that pools itself)
  torch::Tensor mask;      ///< [B,T] bool, as given in the input (undefined = all real)
  State state;             ///< state after this call, to carry into the next
};

struct BackboneContext {
  std::int64_t vocab_size = 0;
  std::int64_t padding_id = 0;
};

class LMFORGE_API Backbone : public torch::nn::Module {
 public:
  virtual Features forward(const BackboneInput& input) = 0;
  /// H, the width of `Features::sequence`.
  virtual std::int64_t output_size() const = 0;
  /// The input embedding table [V,E] (for weight tying and embedding export); undefined if none.
  virtual torch::Tensor input_embedding() = 0;
  /// Parameter groups from the bottom (embedding) to the top layer, for freezing, gradual
  /// unfreezing and discriminative learning rates. Every parameter is in exactly one group.
  /// `train: {freeze: [backbone.0]}` freezes group 0 (the embedding); `unfreeze: gradual` makes
  /// one more group trainable each epoch from the top; `discriminative_lr: d` divides each lower
  /// group's rate by d. One group holding everything is valid (the body then freezes as a whole).
  virtual std::vector<std::vector<torch::Tensor>> layer_groups() = 0;
  /// True when position t only sees positions <= t, so the backbone can drive a language model.
  virtual bool causal() const { return true; }
  /// True when training should carry `Features::state` from one BPTT window into the next
  /// (recurrent networks). Attention models return false: their state is a key/value cache, used
  /// for generation only.
  virtual bool carries_state() const { return true; }
  /// Cuts `state` from the graph so back-propagation stops at the batch boundary.
  static State detach(const State& state);
};

}  // namespace lmforge
