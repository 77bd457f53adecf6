#pragma once
// my_backbone: a word-level GRU backbone.
// Token embedding, stacked GRU layers, dropout. Written by `lmforge new plugin`; make it yours.
// In a recipe:
//
//   backbone: {type: my_backbone, hidden_size: 128, layers: 2}
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/rnn.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace my_backbone_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct MyBackboneOptions {
  std::int64_t embedding_dim = 64;
  std::int64_t hidden_size = 128;
  std::int64_t layers = 2;
  double dropout = 0.1;

  void visit(lmforge::OptionVisitor& v) {
    v.field("embedding_dim", embedding_dim, "width of the token embedding").positive();
    v.field("hidden_size", hidden_size, "units per GRU layer (the features' width)").positive();
    v.field("layers", layers, "number of stacked GRU layers").positive();
    v.field("dropout", dropout, "dropout on the embedding, between layers and on the output")
        .range(0.0, 1.0);
  }
};

// Features: sequence [B,T,hidden_size]. State: one [1,B,hidden_size] tensor per layer, carried from
// one BPTT window to the next by the language-modelling task.
class MyBackbone : public lmforge::Backbone {
 public:
  using Options = MyBackboneOptions;

  MyBackbone(const Options& options, const lmforge::BackboneContext& context);

  lmforge::Features forward(const lmforge::BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.hidden_size; }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override;

 private:
  Options options_;
  torch::nn::Embedding embedding_{nullptr};
  // One module per layer rather than one stacked GRU: each layer is then its own group for
  // freezing, gradual unfreezing and discriminative learning rates.
  std::vector<torch::nn::GRU> layers_;
};

}  // namespace my_backbone_plugin
