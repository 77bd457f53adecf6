#include "encoder_decoder.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "lmforge/error.h"

namespace lmforge {
namespace encoder_decoder {

using torch::Tensor;

/// Multi-head attention with the key/value projection apart from the query's, so keys and values
/// can be projected once and cached: the decoder's own past tokens, or the encoder's memory.
class Attention : public torch::nn::Module {
 public:
  Attention(std::int64_t width, std::int64_t heads, double dropout)
      : heads_(heads), head_dim_(width / heads), dropout_(dropout) {
    query_ = register_module("query", torch::nn::Linear(width, width));
    key_value_ = register_module("key_value", torch::nn::Linear(width, 2 * width));
    out_ = register_module("out", torch::nn::Linear(width, width));
  }

  /// x [B,S,W] -> keys and values [B,H,S,D].
  std::pair<Tensor, Tensor> keys_values(const Tensor& x) {
    auto kv = key_value_->forward(x)
                  .view({x.size(0), x.size(1), 2, heads_, head_dim_})
                  .permute({2, 0, 3, 1, 4})
                  .unbind(0);
    return {kv[0], kv[1]};
  }

  /// x [B,T,W] attends to keys/values [B,H,K,D]; bias broadcasts to [B,H,T,K] (undefined =
  /// none).
  Tensor forward(const Tensor& x, const Tensor& keys, const Tensor& values, const Tensor& bias) {
    const std::int64_t batch = x.size(0), length = x.size(1);
    auto q = query_->forward(x).view({batch, length, heads_, head_dim_}).transpose(1, 2);
    auto scores = torch::matmul(q, keys.transpose(-2, -1))
                      .mul_(1.0 / std::sqrt(static_cast<double>(head_dim_)));
    if (bias.defined()) scores = scores + bias;
    auto weights = torch::softmax(scores, -1);
    if (dropout_ > 0 && is_training()) weights = torch::dropout(weights, dropout_, true);
    auto y = torch::matmul(weights, values).transpose(1, 2).reshape({batch, length, -1});
    return out_->forward(y);
  }

 private:
  std::int64_t heads_, head_dim_;
  double dropout_;
  torch::nn::Linear query_{nullptr}, key_value_{nullptr}, out_{nullptr};
};

/// The parts every layer has: residual branches with dropout, LayerNorm before (pre) or after
/// (post) each, and the feed-forward.
class LayerBase : public torch::nn::Module {
 protected:
  explicit LayerBase(const EncoderDecoderOptions& o)
      : dropout_(o.dropout), pre_norm_(o.norm == "pre"), gelu_(o.activation == "gelu") {}

  void build_feed_forward(const EncoderDecoderOptions& o) {
    ff_in_ = register_module("ff_in", torch::nn::Linear(o.width, o.ff_width));
    ff_out_ = register_module("ff_out", torch::nn::Linear(o.ff_width, o.width));
    ff_norm_ =
        register_module("ff_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.width})));
  }
  torch::nn::LayerNorm make_norm(const char* name, std::int64_t width) {
    return register_module(name, torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  }
  Tensor drop(const Tensor& x) {
    return dropout_ > 0 ? torch::dropout(x, dropout_, is_training()) : x;
  }
  /// x + branch(x) with the norm placed as configured.
  template <class Branch>
  Tensor residual(const Tensor& x, torch::nn::LayerNorm& norm, Branch&& branch) {
    if (pre_norm_) return x + drop(branch(norm->forward(x)));
    return norm->forward(x + drop(branch(x)));
  }
  Tensor feed_forward_block(const Tensor& x) {
    return residual(x, ff_norm_, [&](const Tensor& h) {
      auto inner = ff_in_->forward(h);
      inner = gelu_ ? torch::gelu(inner) : torch::relu(inner);
      return ff_out_->forward(drop(inner));
    });
  }

  double dropout_;
  bool pre_norm_, gelu_;
  torch::nn::Linear ff_in_{nullptr}, ff_out_{nullptr};
  torch::nn::LayerNorm ff_norm_{nullptr};
};

class EncoderLayer : public LayerBase {
 public:
  explicit EncoderLayer(const EncoderDecoderOptions& o) : LayerBase(o) {
    attention_ =
        register_module("attention", std::make_shared<Attention>(o.width, o.heads, o.dropout));
    attention_norm_ = make_norm("attention_norm", o.width);
    build_feed_forward(o);
  }
  Tensor forward(const Tensor& x, const Tensor& padding_bias) {
    auto h = residual(x, attention_norm_, [&](const Tensor& in) {
      auto [k, v] = attention_->keys_values(in);
      return attention_->forward(in, k, v, padding_bias);
    });
    return feed_forward_block(h);
  }

 private:
  std::shared_ptr<Attention> attention_;
  torch::nn::LayerNorm attention_norm_{nullptr};
};

/// One decoder layer's cache entries (see EncoderDecoderBackbone).
struct LayerCache {
  Tensor self_keys, self_values, cross_keys, cross_values;
};

class DecoderLayer : public LayerBase {
 public:
  explicit DecoderLayer(const EncoderDecoderOptions& o) : LayerBase(o) {
    self_attention_ =
        register_module("self_attention", std::make_shared<Attention>(o.width, o.heads, o.dropout));
    self_norm_ = make_norm("self_norm", o.width);
    cross_attention_ = register_module("cross_attention",
                                       std::make_shared<Attention>(o.width, o.heads, o.dropout));
    cross_norm_ = make_norm("cross_norm", o.width);
    build_feed_forward(o);
  }
  /// `cache` holds the past (undefined tensors = none) and receives the extended one.
  Tensor forward(const Tensor& x, const Tensor& memory, const Tensor& causal_bias,
                 const Tensor& cross_bias, LayerCache& cache) {
    auto h = residual(x, self_norm_, [&](const Tensor& in) {
      auto [k, v] = self_attention_->keys_values(in);
      if (cache.self_keys.defined()) {
        k = torch::cat({cache.self_keys, k}, 2);
        v = torch::cat({cache.self_values, v}, 2);
      }
      cache.self_keys = k;
      cache.self_values = v;
      return self_attention_->forward(in, k, v, causal_bias);
    });
    if (!cache.cross_keys.defined()) {
      std::tie(cache.cross_keys, cache.cross_values) = cross_attention_->keys_values(memory);
    }
    h = residual(h, cross_norm_, [&](const Tensor& in) {
      return cross_attention_->forward(in, cache.cross_keys, cache.cross_values, cross_bias);
    });
    return feed_forward_block(h);
  }

 private:
  std::shared_ptr<Attention> self_attention_, cross_attention_;
  torch::nn::LayerNorm self_norm_{nullptr}, cross_norm_{nullptr};
};

}  // namespace encoder_decoder

namespace {

void check_shape(const EncoderDecoderOptions& o, const BackboneContext& context) {
  if (context.vocab_size <= 0) {
    throw ConfigError("", "the encoder_decoder backbone needs a non-empty vocabulary, got size " +
                              std::to_string(context.vocab_size));
  }
  if (o.width % o.heads != 0) {
    throw ConfigError("", "encoder_decoder width " + std::to_string(o.width) +
                              " is not divisible by heads " + std::to_string(o.heads) +
                              "; pick a width that is a multiple of heads");
  }
}

/// 0 on real keys, a large finite negative on padding (finite, so an all-padding row stays a
/// number): [B,1,1,S], or undefined when nothing is padded.
torch::Tensor padding_bias(const torch::Tensor& mask, torch::ScalarType dtype) {
  if (!mask.defined() || mask.all().item<bool>()) return {};
  auto real = mask.to(torch::kBool);
  return torch::zeros(real.sizes(), torch::TensorOptions().dtype(dtype).device(mask.device()))
      .masked_fill_(real.logical_not(), -1e9)
      .view({real.size(0), 1, 1, real.size(1)});
}

}  // namespace

EncoderDecoderBackbone::EncoderDecoderBackbone(const Options& options,
                                               const BackboneContext& context)
    : options_(options) {
  check_options(options, "encoder_decoder");
  check_shape(options, context);
  auto table = [&](const char* name) {
    auto o = torch::nn::EmbeddingOptions(context.vocab_size, options.width);
    if (context.padding_id >= 0 && context.padding_id < context.vocab_size) {
      o.padding_idx(context.padding_id);
    }
    return register_module(name, torch::nn::Embedding(o));
  };
  if (!options.share_embeddings) source_embedding_ = table("source_embedding");
  target_embedding_ = table("target_embedding");
  position_embedding_ = register_module("position_embedding",
                                        torch::nn::Embedding(options.max_positions, options.width));
  auto encoder = register_module("encoder", torch::nn::ModuleList());
  auto decoder = register_module("decoder", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.layers; ++i) {
    encoder_.push_back(std::make_shared<encoder_decoder::EncoderLayer>(options));
    encoder->push_back(encoder_.back());
    decoder_.push_back(std::make_shared<encoder_decoder::DecoderLayer>(options));
    decoder->push_back(decoder_.back());
  }
  if (options.norm == "pre") {
    encoder_norm_ = register_module(
        "encoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width})));
    decoder_norm_ = register_module(
        "decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width})));
  }
  // Xavier-uniform matrices (as bentrevett/pytorch-seq2seq and fairseq's Transformer); embeddings
  // N(0, width^-1/2) so that scaled by sqrt(width) they start at unit variance.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    const bool embedding = p.key().find("embedding") != std::string::npos;
    if (embedding) {
      p.value().normal_(0.0, 1.0 / std::sqrt(static_cast<double>(options.width)));
    } else if (p.value().dim() == 2) {
      torch::nn::init::xavier_uniform_(p.value());
    } else if (p.key().find("norm") == std::string::npos) {
      p.value().zero_();  // linear biases
    }
  }
  if (context.padding_id >= 0 && context.padding_id < context.vocab_size) {
    target_embedding_->weight[context.padding_id].zero_();
    if (source_embedding_) source_embedding_->weight[context.padding_id].zero_();
  }
}

torch::Tensor EncoderDecoderBackbone::embed(const torch::nn::Embedding& table,
                                            const torch::Tensor& tokens,
                                            std::int64_t first_position) {
  const std::int64_t length = tokens.size(1);
  if (first_position + length > options_.max_positions) {
    throw ConfigError(
        "", "the encoder_decoder got a sequence of " + std::to_string(first_position + length) +
                " tokens, more than its max_positions " + std::to_string(options_.max_positions) +
                "; raise max_positions or shorten the task's max_length");
  }
  auto x = torch::embedding(table->weight, tokens, table->options.padding_idx().value_or(-1));
  if (options_.scale_embeddings) x = x * std::sqrt(static_cast<double>(options_.width));
  auto positions =
      torch::arange(first_position, first_position + length,
                    torch::TensorOptions().dtype(torch::kLong).device(tokens.device()));
  x = x + position_embedding_->forward(positions);
  return options_.dropout > 0 ? torch::dropout(x, options_.dropout, is_training()) : x;
}

torch::Tensor EncoderDecoderBackbone::encode(const torch::Tensor& source,
                                             const torch::Tensor& source_mask) {
  TORCH_CHECK(source.dim() == 2, "encoder_decoder expects source tokens [B,S], got ",
              source.sizes());
  auto x = embed(source_embedding_ ? source_embedding_ : target_embedding_, source, 0);
  auto bias = padding_bias(source_mask, x.scalar_type());
  for (auto& layer : encoder_) x = layer->forward(x, bias);
  return encoder_norm_ ? encoder_norm_->forward(x) : x;
}

Features EncoderDecoderBackbone::decode(const torch::Tensor& target, const torch::Tensor& memory,
                                        const torch::Tensor& source_mask, const State& cache,
                                        bool keep_cache) {
  TORCH_CHECK(target.dim() == 2, "encoder_decoder expects target tokens [B,T], got ",
              target.sizes());
  const std::size_t layers = decoder_.size();
  TORCH_CHECK(cache.empty() || cache.size() == 4 * layers, "encoder_decoder expects a cache of ",
              4 * layers, " tensors, got ", cache.size());
  const std::int64_t past = cache.empty() ? 0 : cache[0].size(2);
  const std::int64_t length = target.size(1);
  auto x = embed(target_embedding_, target, past);
  torch::Tensor causal;
  if (length > 1) {
    causal = torch::full({length, past + length}, -std::numeric_limits<float>::infinity(),
                         torch::TensorOptions().dtype(x.scalar_type()).device(x.device()))
                 .triu_(past + 1);
  }
  auto cross = padding_bias(source_mask, x.scalar_type());
  State out;
  if (keep_cache) out.reserve(4 * layers);
  for (std::size_t i = 0; i < layers; ++i) {
    encoder_decoder::LayerCache layer_cache;
    if (!cache.empty()) {
      layer_cache = {cache[4 * i], cache[4 * i + 1], cache[4 * i + 2], cache[4 * i + 3]};
    }
    x = decoder_[i]->forward(x, memory, causal, cross, layer_cache);
    if (keep_cache) {
      out.push_back(layer_cache.self_keys);
      out.push_back(layer_cache.self_values);
      out.push_back(layer_cache.cross_keys);
      out.push_back(layer_cache.cross_values);
    }
  }
  if (decoder_norm_) x = decoder_norm_->forward(x);
  return Features{x, torch::Tensor(), std::move(out)};
}

Features EncoderDecoderBackbone::forward(const BackboneInput& input) {
  return Features{encode(input.tokens, input.mask), input.mask, {}};
}

std::vector<std::vector<torch::Tensor>> EncoderDecoderBackbone::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups;
  groups.push_back({target_embedding_->weight, position_embedding_->weight});
  if (source_embedding_) groups[0].push_back(source_embedding_->weight);
  for (auto& layer : encoder_) groups.push_back(layer->parameters());
  if (encoder_norm_) {
    for (auto& p : encoder_norm_->parameters()) groups.back().push_back(p);
  }
  for (auto& layer : decoder_) groups.push_back(layer->parameters());
  if (decoder_norm_) {
    for (auto& p : decoder_norm_->parameters()) groups.back().push_back(p);
  }
  return groups;
}

}  // namespace lmforge
