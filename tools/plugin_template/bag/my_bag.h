#pragma once
// my_bag: a bag-of-embeddings encoder -- no recurrence, no attention. Each text becomes the mean
// of its tokens' vectors, passed through a tanh layer: fastText's classifier body, and a fast,
// strong baseline for short texts. It pools itself, so it returns one vector per text, shaped
// [B,1,H] with no mask; any pooled head (classifier) reads it as is. It is not causal, so it cannot
// drive a language model. Written by `lmforge new plugin --kind backbone --template bag`; make it
// yours. In a recipe:
//
//   backbone: {type: my_bag, embedding_dim: 64, hidden_size: 64}
//   head: {type: classifier, pooling: first}
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace my_bag_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct MyBagOptions {
  std::int64_t embedding_dim = 64;
  std::int64_t hidden_size = 64;
  double dropout = 0.1;

  void visit(lmforge::OptionVisitor& v) {
    v.field("embedding_dim", embedding_dim, "width of the token vectors").positive();
    v.field("hidden_size", hidden_size, "width of the text vector (the features' width)")
        .positive();
    v.field("dropout", dropout, "dropout on the mean vector").range(0.0, 1.0);
  }
};

/// Checkpoint keys: "embedding.weight", "projection.weight", "projection.bias".
class MyBag : public lmforge::Backbone {
 public:
  using Options = MyBagOptions;

  MyBag(const Options& options, const lmforge::BackboneContext& context);

  /// tokens [B,T] (mask [B,T], undefined = all real) -> sequence [B,1,hidden_size].
  lmforge::Features forward(const lmforge::BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.hidden_size; }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  /// Two groups, bottom first: the embedding, then the projection (freeze: [backbone.0] keeps
  /// pre-trained vectors fixed).
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }

 private:
  Options options_;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::Linear projection_{nullptr};
};

}  // namespace my_bag_plugin
