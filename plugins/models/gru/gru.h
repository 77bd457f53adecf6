#pragma once
// A GRU (Cho et al. 2014) language-model or encoder body: an embedding, then a stack of
// single-layer GRUs, optionally bidirectional. The stack itself is RecurrentStack, shared with the
// rnn plugin's folder (header-only, so each plugin compiles its own copy).
//
// Example (recipe):
//   backbone: {type: gru, embedding_dim: 200, hidden_size: 200, layers: 2, dropout: 0.2}
#include "common/recurrent_stack.h"
#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace lmforge {

struct GruOptions : RecurrentOptions {};

/// State: state[i] = h of layer i, [directions,B,H_i]. Checkpoint keys: "embedding.weight",
/// "gru<i>.weight_ih_l0", "gru<i>.weight_hh_l0", "gru<i>.bias_ih_l0", "gru<i>.bias_hh_l0" (and
/// "..._reverse" when bidirectional).
class GruBackbone : public RecurrentStack<torch::nn::GRU> {
 public:
  using Options = GruOptions;

  GruBackbone(const Options& options, const BackboneContext& context);

  const Options& options() const { return options_; }

 private:
  Options options_;
};

}  // namespace lmforge
