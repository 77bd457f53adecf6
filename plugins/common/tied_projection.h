#pragma once
// The output projection of a head that scores every token of the vocabulary (the lm and mlm
// heads): tied to the backbone's input embedding (Press & Wolf 2017; GPT-2 and BERT do it), or a
// weight of its own. Header-only, like the rest of plugins/common.
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "lmforge/error.h"
#include "lmforge/head.h"

namespace lmforge {

/// The backbone's input embedding, to be used as the projection [vocabulary, width]; checks it
/// exists and has one row per output. Throws ConfigError naming the fix (no place: the recipe
/// reader adds the head's).
inline torch::Tensor tied_embedding(const HeadContext& context) {
  torch::Tensor embedding =
      context.backbone != nullptr ? context.backbone->input_embedding() : torch::Tensor();
  if (!embedding.defined()) {
    throw ConfigError("",
                      "tie_weights: true needs a backbone with an input embedding; set the "
                      "head's tie_weights: false");
  }
  if (embedding.size(0) != context.num_outputs) {
    throw ConfigError(
        "", "tie_weights needs the embedding's vocabulary (" + std::to_string(embedding.size(0)) +
                ") to equal the head's output size (" + std::to_string(context.num_outputs) +
                "); set the head's tie_weights: false");
  }
  return embedding;
}

/// An untied projection [num_outputs, width] in nn.Linear's default range, so the head starts
/// as PyTorch's would.
inline torch::Tensor fresh_projection(std::int64_t num_outputs, std::int64_t width) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(width));
  return torch::empty({num_outputs, width}).uniform_(-bound, bound);
}

}  // namespace lmforge
