#include "tagger_head.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {

TaggerHead::TaggerHead(const Options& options, const HeadContext& context) : options_(options) {
  layers_.build(*this, options, context.input_size, context.num_outputs, "tagger");
}

torch::Tensor TaggerHead::forward(const Features& features) {
  TORCH_CHECK(features.sequence.dim() == 3, "tagger head expects features [B,T,H], got ",
              features.sequence.sizes());
  return layers_.forward(features.sequence, is_training());
}

torch::Tensor TaggerHead::loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 3 && targets.dim() == 2 && logits.size(0) == targets.size(0) &&
                  logits.size(1) == targets.size(1),
              "tagger loss expects logits [B,T,C] and targets [B,T], got ", logits.sizes(), " and ",
              targets.sizes());
  // Flattened so every real token weighs the same, whichever sentence it belongs to.
  return layers_.loss(logits.reshape({-1, logits.size(2)}), targets.reshape({-1}));
}

}  // namespace lmforge
