#include "rnn.h"

#include <torch/torch.h>

#include "lmforge/error.h"

namespace lmforge {
namespace {

torch::nn::RNN make_rnn_layer(const RnnOptions& options, std::int64_t in, std::int64_t units) {
  if (options.nonlinearity != "tanh" && options.nonlinearity != "relu") {
    throw ConfigError("",
                      "rnn nonlinearity must be tanh or relu, got '" + options.nonlinearity + "'");
  }
  auto layer_options =
      torch::nn::RNNOptions(in, units).batch_first(true).bidirectional(options.bidirectional);
  if (options.nonlinearity == "relu") {
    layer_options.nonlinearity(torch::kReLU);
  } else {
    layer_options.nonlinearity(torch::kTanh);
  }
  return torch::nn::RNN(layer_options);
}

}  // namespace

RnnBackbone::RnnBackbone(const Options& options, const BackboneContext& context)
    : RecurrentStack("rnn", options, context,
                     [&options](std::int64_t in, std::int64_t units) {
                       return make_rnn_layer(options, in, units);
                     }),
      options_(options) {}

}  // namespace lmforge
