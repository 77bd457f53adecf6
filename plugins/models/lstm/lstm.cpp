#include "lstm.h"

#include <torch/torch.h>

#include <string>
#include <tuple>

#include "lmforge/error.h"

namespace lmforge {

LstmBackbone::LstmBackbone(const Options& options, const BackboneContext& context)
    : options_(options) {
  if (context.vocab_size <= 0) {
    throw ConfigError("", "the lstm backbone needs a non-empty vocabulary, got size " +
                              std::to_string(context.vocab_size));
  }
  // The ranges LstmOptions::visit declares, for a backbone built in C++ without a recipe.
  check_options(options, "lstm");

  const bool has_padding = context.padding_id >= 0 && context.padding_id < context.vocab_size;
  auto embedding_options = torch::nn::EmbeddingOptions(context.vocab_size, options.embedding_dim);
  if (has_padding) embedding_options.padding_idx(context.padding_id);
  embedding_ = register_module("embedding", torch::nn::Embedding(embedding_options));
  {
    // N(0,1) rows, the LibTorch default, give huge initial logits once an lm head ties its output
    // weights to this table; AWD-LSTM's small uniform range trains from the first step.
    torch::NoGradGuard no_grad;
    embedding_->weight.uniform_(-0.1, 0.1);
    if (has_padding) embedding_->weight[context.padding_id].zero_();
  }

  // One single-layer module per layer rather than one stacked LSTM: layer sizes may differ, each
  // layer is its own group for freezing and per-layer rates, and each still runs the fused kernel.
  for (std::int64_t i = 0; i < options.layers; ++i) {
    const std::int64_t in = i == 0 ? options.embedding_dim : options.hidden_size;
    const bool last = i == options.layers - 1;
    const std::int64_t out =
        last && options.tie_output ? options.embedding_dim : options.hidden_size;
    lstms_.push_back(
        register_module("lstm" + std::to_string(i),
                        torch::nn::LSTM(torch::nn::LSTMOptions(in, out).batch_first(true))));
  }
}

Features LstmBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "lstm backbone expects tokens [B,T], got ",
              input.tokens.sizes());
  const std::size_t layers = lstms_.size();
  TORCH_CHECK(input.state.empty() || input.state.size() == 2 * layers,
              "lstm backbone expects a state of ", 2 * layers, " tensors (h and c per layer), got ",
              input.state.size());
  const bool train = is_training();
  const double p = options_.dropout;

  // Embedding the transposed ids gives [T,B,E] memory seen as [B,T,E], which is the layout the
  // fused kernel wants for batch_first input, so the first layer need not copy its input.
  torch::Tensor x = embedding_->forward(input.tokens.t()).transpose(0, 1);
  if (p > 0) x = torch::dropout(x, p, train);

  State state;
  state.reserve(2 * layers);
  for (std::size_t i = 0; i < layers; ++i) {
    torch::optional<std::tuple<torch::Tensor, torch::Tensor>> hx;
    if (!input.state.empty()) hx = std::make_tuple(input.state[2 * i], input.state[2 * i + 1]);
    auto [output, hc] = lstms_[i]->forward(x, hx);
    state.push_back(std::move(std::get<0>(hc)));
    state.push_back(std::move(std::get<1>(hc)));
    x = p > 0 ? torch::dropout(output, p, train) : std::move(output);
  }
  return Features{std::move(x), input.mask, std::move(state)};
}

std::int64_t LstmBackbone::output_size() const {
  return options_.tie_output ? options_.embedding_dim : options_.hidden_size;
}

std::vector<std::vector<torch::Tensor>> LstmBackbone::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups;
  groups.reserve(lstms_.size() + 1);
  groups.push_back(embedding_->parameters());
  for (auto& lstm : lstms_) groups.push_back(lstm->parameters());
  return groups;
}

}  // namespace lmforge
