#include "cbow.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {

CbowBackbone::CbowBackbone(const Options& options, const BackboneContext& context)
    : options_(options) {
  if (context.vocab_size <= 0 || options.dim <= 0) {
    throw ConfigError(
        "", "the cbow backbone needs a non-empty vocabulary and a positive dim, got " +
                std::to_string(context.vocab_size) + " and " + std::to_string(options.dim));
  }
  // gensim's and fastText's range; word2vec.c's half as wide trained 0.5 analogy points worse
  // after one epoch of Gutenberg. The output side starts at zero (see the heads).
  const double bound = 1.0 / static_cast<double>(options.dim);
  embedding_ = register_parameter(
      "embedding", torch::empty({context.vocab_size, options.dim}).uniform_(-bound, bound));
}

Features CbowBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "cbow backbone expects context tokens [B,C], got ",
              input.tokens.sizes());
  torch::Tensor vectors = torch::embedding(embedding_, input.tokens);  // [B,C,D]
  torch::Tensor weight = input.mask.defined()
                             ? input.mask.to(vectors.scalar_type())
                             : torch::ones(input.tokens.sizes(), vectors.options());
  torch::Tensor sum = (vectors * weight.unsqueeze(-1)).sum(1);
  torch::Tensor mean = sum / weight.sum(1, /*keepdim=*/true).clamp_min(1.0);
  return Features{mean.unsqueeze(1), torch::Tensor(), {}};
}

}  // namespace lmforge
