#pragma once
// An Elman RNN language-model or encoder body: an embedding, then a stack of single-layer RNNs
// (tanh or ReLU), optionally bidirectional. The stack itself is RecurrentStack, shared with gru.
//
// Example (recipe):
//   backbone: {type: rnn, nonlinearity: tanh, embedding_dim: 200, hidden_size: 200, layers: 2}
#include <string>

#include "common/recurrent_stack.h"
#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace lmforge {

struct RnnOptions : RecurrentOptions {
  /// Activation of the recurrence: "tanh" or "relu".
  std::string nonlinearity = "tanh";

  void visit(OptionVisitor& v) {
    v.choice("nonlinearity", nonlinearity, {"tanh", "relu"}, "activation of the recurrence");
    RecurrentOptions::visit(v);
  }
};

/// State: state[i] = h of layer i, [directions,B,H_i]. Checkpoint keys: "embedding.weight",
/// "rnn<i>.weight_ih_l0", "rnn<i>.weight_hh_l0", "rnn<i>.bias_ih_l0", "rnn<i>.bias_hh_l0" (and
/// "..._reverse" when bidirectional).
class RnnBackbone : public RecurrentStack<torch::nn::RNN> {
 public:
  using Options = RnnOptions;

  RnnBackbone(const Options& options, const BackboneContext& context);

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace lmforge
