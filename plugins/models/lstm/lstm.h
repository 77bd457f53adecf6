#pragma once
// A word-level LSTM language-model body in the AWD-LSTM shape: an embedding, then a stack of
// single-layer LSTMs whose sizes may differ, so the top layer can match the embedding width and an
// LM head can tie its output weights to the embedding.
//
// Example (recipe):
//   backbone: {type: lstm, embedding_dim: 400, hidden_size: 1150, layers: 3, dropout: 0.3}
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/rnn.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace lmforge {

struct LstmOptions {
  /// Width of the token embedding.
  std::int64_t embedding_dim = 400;
  /// Units in every LSTM layer but (with tie_output) the last.
  std::int64_t hidden_size = 1150;
  /// Number of stacked LSTM layers.
  std::int64_t layers = 3;
  /// Dropout on the embedding output, between layers and on the output.
  double dropout = 0.3;
  /// Make the last layer embedding_dim wide so an LM head can tie weights.
  bool tie_output = true;

  void visit(OptionVisitor& v) {
    v.field("embedding_dim", embedding_dim, "width of the token embedding").positive();
    v.field("hidden_size", hidden_size,
            "units per LSTM layer (the last is embedding_dim wide when tie_output is true)")
        .positive();
    v.field("layers", layers, "number of stacked LSTM layers").positive();
    v.field("dropout", dropout, "dropout on the embedding output, between layers and on the output")
        .range(0.0, 1.0);
    v.field("tie_output", tie_output,
            "make the last layer embedding_dim wide so an lm head can tie its weights to the "
            "embedding");
  }
};

/// Recurrent state layout: for layer i, state[2i] = h and state[2i+1] = c, each [1,B,H_i].
class LstmBackbone : public Backbone {
 public:
  using Options = LstmOptions;

  LstmBackbone(const Options& options, const BackboneContext& context);

  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override;
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  bool causal() const override { return true; }

  const Options& options() const { return options_; }

 private:
  Options options_;
  torch::nn::Embedding embedding_{nullptr};
  std::vector<torch::nn::LSTM> lstms_;
};

}  // namespace lmforge
