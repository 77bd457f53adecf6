#pragma once
// The body shared by the rnn and gru backbones, which differ only in the torch module of a layer:
// an embedding, then a stack of single-layer recurrent modules, optionally bidirectional. With
// tie_output the top layer's output is as wide as the embedding, so an lm head can tie to it.
// Header-only so each plugin compiles its own copy and no plugin links another.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/error.h"
#include "lmforge/options.h"

namespace lmforge {

struct RecurrentOptions {
  /// Width of the token embedding.
  std::int64_t embedding_dim = 200;
  /// Units per direction in every layer but (with tie_output) the last.
  std::int64_t hidden_size = 200;
  /// Number of stacked layers.
  std::int64_t layers = 2;
  /// Dropout on the embedding output, between layers and on the output.
  double dropout = 0.2;
  /// Run every layer in both directions; the backbone is then not causal.
  bool bidirectional = false;
  /// Make the last layer's output (both directions together) embedding_dim wide.
  bool tie_output = true;

  void visit(OptionVisitor& v) {
    v.field("embedding_dim", embedding_dim, "width of the token embedding").positive();
    v.field("hidden_size", hidden_size,
            "units per direction in each layer (the last layer's output is embedding_dim wide "
            "when tie_output is true)")
        .positive();
    v.field("layers", layers, "number of stacked recurrent layers").positive();
    v.field("dropout", dropout, "dropout on the embedding output, between layers and on the output")
        .range(0.0, 1.0);
    v.field("bidirectional", bidirectional,
            "run each layer in both directions (output 2 x hidden_size; not causal, so it cannot "
            "drive a language model)");
    v.field("tie_output", tie_output,
            "make the last layer's output embedding_dim wide so an lm head can tie its weights to "
            "the embedding (bidirectional: embedding_dim must be even)");
  }
};

/// Recurrent state layout: state[i] = h of layer i, [directions,B,H_i]. Bidirectional stacks
/// return it too, but training does not carry it: their backward direction reads the future.
///
/// Checkpoint keys: "embedding.weight", then "<kind><i>.weight_ih_l0", "<kind><i>.bias_hh_l0",
/// ... per layer i (and "..._reverse" when bidirectional).
template <class Layer>  // torch::nn::RNN or torch::nn::GRU
class RecurrentStack : public Backbone {
 public:
  /// Makes the single-layer module of one layer from its input width and units per direction.
  using LayerFactory = std::function<Layer(std::int64_t in, std::int64_t units)>;

  RecurrentStack(const std::string& kind, const RecurrentOptions& options,
                 const BackboneContext& context, const LayerFactory& make_layer)
      : kind_(kind), shape_(options) {
    if (context.vocab_size <= 0) {
      throw ConfigError("", "the " + kind + " backbone needs a non-empty vocabulary, got size " +
                                std::to_string(context.vocab_size));
    }
    // The ranges RecurrentOptions::visit declares, for a backbone built in C++ without a recipe.
    check_options(options, kind);
    const std::int64_t directions = options.bidirectional ? 2 : 1;
    if (options.tie_output && options.embedding_dim % directions != 0) {
      throw ConfigError(
          "", "a bidirectional " + kind + " with tie_output needs an even embedding_dim, got " +
                  std::to_string(options.embedding_dim) + "; change it or set tie_output: false");
    }

    const bool has_padding = context.padding_id >= 0 && context.padding_id < context.vocab_size;
    auto embedding_options = torch::nn::EmbeddingOptions(context.vocab_size, options.embedding_dim);
    if (has_padding) embedding_options.padding_idx(context.padding_id);
    embedding_ = register_module("embedding", torch::nn::Embedding(embedding_options));
    {
      // Small rows, as in the lstm backbone: N(0,1) rows give huge initial logits once tied.
      torch::NoGradGuard no_grad;
      embedding_->weight.uniform_(-0.1, 0.1);
      if (has_padding) embedding_->weight[context.padding_id].zero_();
    }

    // One single-layer module per layer (as in the lstm backbone): the top layer may be narrower,
    // each layer is its own group for freezing, and each still runs the fused kernel.
    for (std::int64_t i = 0; i < options.layers; ++i) {
      const std::int64_t in = i == 0 ? options.embedding_dim : directions * options.hidden_size;
      const bool last = i == options.layers - 1;
      const std::int64_t units =
          last && options.tie_output ? options.embedding_dim / directions : options.hidden_size;
      layers_.push_back(register_module(kind + std::to_string(i), make_layer(in, units)));
    }
  }

  /// With a mask and bidirectional, right padding is packed away, so the backward direction
  /// starts at each row's last real token and padded positions come out as zeros.
  Features forward(const BackboneInput& input) override {
    namespace rnn_utils = torch::nn::utils::rnn;
    TORCH_CHECK(input.tokens.dim() == 2, kind_, " backbone expects tokens [B,T], got ",
                input.tokens.sizes());
    const std::size_t layers = layers_.size();
    TORCH_CHECK(input.state.empty() || input.state.size() == layers, kind_,
                " backbone expects a state of ", layers, " tensors (h per layer), got ",
                input.state.size());
    const bool train = is_training();
    const double p = shape_.dropout;
    auto drop = [&](torch::Tensor t) { return p > 0 ? torch::dropout(t, p, train) : t; };
    auto initial = [&](std::size_t i) {
      return input.state.empty() ? torch::Tensor() : input.state[i];
    };

    // Transposed ids give [T,B,E] memory seen as [B,T,E]: the layout the fused kernel wants.
    torch::Tensor x = drop(embedding_->forward(input.tokens.t()).transpose(0, 1));

    State state;
    state.reserve(layers);
    // A forward-only stack never reads right padding before a real token, so only a
    // bidirectional one pays for packing.
    const bool pack =
        shape_.bidirectional && input.mask.defined() && !input.mask.all().template item<bool>();
    if (pack) {
      auto lengths = input.mask.sum(1).clamp_min(1).to(torch::kCPU);
      auto packed = rnn_utils::pack_padded_sequence(x, lengths, /*batch_first=*/true,
                                                    /*enforce_sorted=*/false);
      for (std::size_t i = 0; i < layers; ++i) {
        auto [output, h] = layers_[i]->forward_with_packed_input(packed, initial(i));
        state.push_back(std::move(h));
        packed = rnn_utils::PackedSequence(drop(output.data()), output.batch_sizes(),
                                           output.sorted_indices(), output.unsorted_indices());
      }
      x = std::get<0>(rnn_utils::pad_packed_sequence(packed, /*batch_first=*/true,
                                                     /*padding_value=*/0.0,
                                                     /*total_length=*/input.tokens.size(1)));
    } else {
      for (std::size_t i = 0; i < layers; ++i) {
        auto [output, h] = layers_[i]->forward(x, initial(i));
        state.push_back(std::move(h));
        x = drop(std::move(output));
      }
    }
    return Features{std::move(x), input.mask, std::move(state)};
  }

  std::int64_t output_size() const override {
    return shape_.tie_output ? shape_.embedding_dim
                             : (shape_.bidirectional ? 2 : 1) * shape_.hidden_size;
  }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override {
    std::vector<std::vector<torch::Tensor>> groups;
    groups.reserve(layers_.size() + 1);
    groups.push_back(embedding_->parameters());
    for (auto& layer : layers_) groups.push_back(layer->parameters());
    return groups;
  }
  bool causal() const override { return !shape_.bidirectional; }
  bool carries_state() const override { return !shape_.bidirectional; }

 private:
  std::string kind_;
  RecurrentOptions shape_;
  torch::nn::Embedding embedding_{nullptr};
  std::vector<Layer> layers_;
};

}  // namespace lmforge
