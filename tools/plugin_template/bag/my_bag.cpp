#include "my_bag.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"
#include "lmforge/plugin.h"

namespace my_bag_plugin {

MyBag::MyBag(const Options& options, const lmforge::BackboneContext& context) : options_(options) {
  // The ranges MyBagOptions::visit declares, for a backbone built in C++ without a recipe.
  lmforge::check_options(options, "my_bag");
  if (context.vocab_size <= 0) {
    throw lmforge::ConfigError(
        "", "my_bag needs a non-empty vocabulary, got size " + std::to_string(context.vocab_size));
  }
  auto embedding = torch::nn::EmbeddingOptions(context.vocab_size, options.embedding_dim);
  if (context.padding_id >= 0 && context.padding_id < context.vocab_size) {
    embedding.padding_idx(context.padding_id);
  }
  embedding_ = register_module("embedding", torch::nn::Embedding(embedding));
  projection_ =
      register_module("projection", torch::nn::Linear(options.embedding_dim, options.hidden_size));
}

lmforge::Features MyBag::forward(const lmforge::BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "my_bag expects tokens [B,T], got ", input.tokens.sizes());
  torch::Tensor vectors = embedding_->forward(input.tokens);  // [B,T,E]
  torch::Tensor weight = input.mask.defined()
                             ? input.mask.to(vectors.scalar_type())
                             : torch::ones(input.tokens.sizes(), vectors.options());
  // Mean over the real tokens only, so padding never changes a text's vector.
  torch::Tensor mean =
      (vectors * weight.unsqueeze(-1)).sum(1) / weight.sum(1, /*keepdim=*/true).clamp_min(1.0);
  mean = torch::dropout(mean, options_.dropout, is_training());
  torch::Tensor text = torch::tanh(projection_->forward(mean));  // [B,H]
  return {text.unsqueeze(1), torch::Tensor(), {}};
}

std::vector<std::vector<torch::Tensor>> MyBag::layer_groups() {
  return {embedding_->parameters(), projection_->parameters()};
}

}  // namespace my_bag_plugin

LMFORGE_PLUGIN(my_bag) {
  reg.backbone<my_bag_plugin::MyBag>("my_bag",
                                     "bag of embeddings: mean token vector and a tanh layer");
}
