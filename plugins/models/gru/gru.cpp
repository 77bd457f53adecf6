#include "gru.h"

#include <torch/torch.h>

namespace lmforge {

GruBackbone::GruBackbone(const Options& options, const BackboneContext& context)
    : RecurrentStack(
          "gru", options, context,
          [&options](std::int64_t in, std::int64_t units) {
            return torch::nn::GRU(torch::nn::GRUOptions(in, units).batch_first(true).bidirectional(
                options.bidirectional));
          }),
      options_(options) {}

}  // namespace lmforge
