#include "skipgram.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {

SkipGramBackbone::SkipGramBackbone(const Options& options, const BackboneContext& context)
    : options_(options) {
  if (context.vocab_size <= 0 || options.dim <= 0) {
    throw ConfigError(
        "", "the skipgram backbone needs a non-empty vocabulary and a positive dim, got " +
                std::to_string(context.vocab_size) + " and " + std::to_string(options.dim));
  }
  // gensim's and fastText's range; word2vec.c's half as wide trained 0.5 analogy points worse
  // after one epoch of Gutenberg. The output side starts at zero (see the heads).
  const double bound = 1.0 / static_cast<double>(options.dim);
  embedding_ = register_parameter(
      "embedding", torch::empty({context.vocab_size, options.dim}).uniform_(-bound, bound));
}

Features SkipGramBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "skipgram backbone expects tokens [B,T], got ",
              input.tokens.sizes());
  return Features{torch::embedding(embedding_, input.tokens), input.mask, {}};
}

}  // namespace lmforge
