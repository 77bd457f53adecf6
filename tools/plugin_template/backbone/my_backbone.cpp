#include "my_backbone.h"

#include <string>

#include "lmforge/error.h"
#include "lmforge/plugin.h"

namespace my_backbone_plugin {

MyBackbone::MyBackbone(const Options& options, const lmforge::BackboneContext& context) : options_(options) {
  if (context.vocab_size <= 0) {
    throw lmforge::ConfigError("backbone my_backbone", "needs a non-empty vocabulary, got size " +
                                                      std::to_string(context.vocab_size));
  }
  auto embedding = torch::nn::EmbeddingOptions(context.vocab_size, options.embedding_dim);
  // The padding row stays zero and gets no gradient, so padded batches train like unpadded ones.
  if (context.padding_id >= 0 && context.padding_id < context.vocab_size) {
    embedding.padding_idx(context.padding_id);
  }
  embedding_ = register_module("embedding", torch::nn::Embedding(embedding));
  for (std::int64_t i = 0; i < options.layers; ++i) {
    const std::int64_t in = i == 0 ? options.embedding_dim : options.hidden_size;
    layers_.push_back(register_module(
        "gru" + std::to_string(i),
        torch::nn::GRU(torch::nn::GRUOptions(in, options.hidden_size).batch_first(true))));
  }
}

lmforge::Features MyBackbone::forward(const lmforge::BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "my_backbone expects tokens [B,T], got ", input.tokens.sizes());
  TORCH_CHECK(input.state.empty() || input.state.size() == layers_.size(),
              "my_backbone expects one state tensor per layer (", layers_.size(), "), got ",
              input.state.size());
  const double p = options_.dropout;
  const bool train = is_training();
  torch::Tensor x = torch::dropout(embedding_->forward(input.tokens), p, train);
  lmforge::State state;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    torch::Tensor h0 = input.state.empty() ? torch::Tensor() : input.state[i];
    auto [output, h] = layers_[i]->forward(x, h0);
    state.push_back(h);
    x = torch::dropout(output, p, train);
  }
  return lmforge::Features{x, input.mask, std::move(state)};
}

std::vector<std::vector<torch::Tensor>> MyBackbone::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups{embedding_->parameters()};
  for (auto& layer : layers_) groups.push_back(layer->parameters());
  return groups;
}

}  // namespace my_backbone_plugin

// The one exported entry point: the loader checks the plugin ABI and LibTorch version this file was
// compiled with, then calls this to register the component under the name recipes use.
LMFORGE_PLUGIN(my_backbone) {
  reg.backbone<my_backbone_plugin::MyBackbone>(
      "my_backbone", "word-level GRU: token embedding, stacked GRU layers, dropout");
}
