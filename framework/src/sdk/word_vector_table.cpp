#include "lmforge/word_vector_table.h"

#include <torch/torch.h>

#include "lmforge/error.h"

namespace lmforge {

WordVectorTable::WordVectorTable(const WordVectorTableOptions& options,
                                 const BackboneContext& context, const std::string& name)
    : dim_(options.dim) {
  if (context.vocab_size <= 0 || options.dim <= 0) {
    throw ConfigError(
        "", "the " + name + " backbone needs a non-empty vocabulary and a positive dim, got " +
                std::to_string(context.vocab_size) + " and " + std::to_string(options.dim));
  }
  // gensim's and fastText's range; word2vec.c's half as wide trained 0.5 analogy points worse
  // after one epoch of Gutenberg. The output side starts at zero (see the heads).
  const double bound = 1.0 / static_cast<double>(options.dim);
  embedding_ = register_parameter(
      "embedding", torch::empty({context.vocab_size, options.dim}).uniform_(-bound, bound));
}

}  // namespace lmforge
