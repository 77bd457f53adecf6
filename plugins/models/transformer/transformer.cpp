#include "transformer.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <string>

#include "lmforge/error.h"
#include "rotary.h"

namespace lmforge {
namespace transformer {

/// LayerNorm over the last dimension with an optional bias (torch::nn::LayerNorm has no
/// weight-only form, which GPT-style bias: false needs).
class Norm : public torch::nn::Module {
 public:
  Norm(std::int64_t width, bool with_bias) : width_(width) {
    weight = register_parameter("weight", torch::ones({width}));
    if (with_bias) bias = register_parameter("bias", torch::zeros({width}));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::layer_norm(x, {width_}, weight, bias, /*eps=*/1e-5);
  }

  torch::Tensor weight, bias;

 private:
  std::int64_t width_;
};

/// Keys and values of one block: those cached before the call (undefined = none) and, when
/// wanted, those after it.
struct KeyValues {
  torch::Tensor past_keys, past_values;
  bool keep = false;
  torch::Tensor keys, values;
};

/// SwiGLU's inner width: 2/3 of the GELU feed-forward's, rounded to the nearest integer, so that
/// three width x inner matrices hold as many weights as GELU's two width x (ff_mult width).
std::int64_t swiglu_inner_width(const TransformerOptions& o) {
  return (2 * o.ff_mult * o.width + 1) / 3;
}

/// Self-attention then a GELU (or SwiGLU) feed-forward, each a residual branch. Works on rows
/// [B*T,width] so every linear layer is one addmm.
class Block : public torch::nn::Module {
 public:
  explicit Block(const TransformerOptions& o)
      : heads_(o.heads),
        head_dim_(o.width / o.heads),
        dropout_(o.dropout),
        pre_norm_(o.norm == "pre"),
        swiglu_(o.activation == "swiglu"),
        gelu_approximation_(o.activation == "gelu_tanh" ? "tanh" : "none") {
    const std::int64_t w = o.width;
    const std::int64_t inner = swiglu_ ? swiglu_inner_width(o) : o.ff_mult * w;
    auto linear = [&](std::int64_t in, std::int64_t out) {
      return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(o.bias));
    };
    attention_norm_ = register_module("attention_norm", std::make_shared<Norm>(w, o.bias));
    qkv_ = register_module("qkv", linear(w, 3 * w));
    if (o.qk_norm) {
      q_norm_ = register_module("q_norm", std::make_shared<Norm>(head_dim_, o.bias));
      k_norm_ = register_module("k_norm", std::make_shared<Norm>(head_dim_, o.bias));
    }
    proj_ = register_module("proj", linear(w, w));
    ff_norm_ = register_module("ff_norm", std::make_shared<Norm>(w, o.bias));
    // SwiGLU's gate and value projections are one matrix (gate rows first): one addmm for both.
    ff_in_ = register_module("ff_in", linear(w, swiglu_ ? 2 * inner : inner));
    ff_out_ = register_module("ff_out", linear(inner, w));

    // GPT-2: N(0, 0.02) everywhere, and (depth_scaled_init) the projections that write into the
    // residual stream scaled by 1/sqrt(2 layers) so the stream's variance does not grow with
    // depth.
    torch::NoGradGuard no_grad;
    const double residual_std =
        o.depth_scaled_init ? 0.02 / std::sqrt(2.0 * static_cast<double>(o.layers)) : 0.02;
    for (auto* layer : {&qkv_, &proj_, &ff_in_, &ff_out_}) {
      (*layer)->weight.normal_(0.0, 0.02);
      if ((*layer)->bias.defined()) (*layer)->bias.zero_();
    }
    proj_->weight.normal_(0.0, residual_std);
    ff_out_->weight.normal_(0.0, residual_std);
  }

  /// x: [B*T,width] rows of `batch` sequences; bias: additive attention mask broadcastable to
  /// [B*heads,T,S] (undefined = none).
  torch::Tensor forward(const torch::Tensor& x, std::int64_t batch, const torch::Tensor& bias,
                        const RotaryAngles& rotation, KeyValues& kv) {
    if (pre_norm_) {
      auto h = x + drop(attend(attention_norm_->forward(x), batch, bias, rotation, kv));
      return h + drop(feed_forward(ff_norm_->forward(h)));
    }
    auto h = attention_norm_->forward(x + drop(attend(x, batch, bias, rotation, kv)));
    return ff_norm_->forward(h + drop(feed_forward(h)));
  }

 private:
  torch::Tensor drop(const torch::Tensor& x) {
    return dropout_ > 0 ? torch::dropout(x, dropout_, is_training()) : x;
  }

  torch::Tensor feed_forward(const torch::Tensor& x) {
    if (swiglu_) {
      auto gate_value = torch::linear(x, ff_in_->weight, ff_in_->bias).chunk(2, -1);
      return torch::linear(torch::silu(gate_value[0]) * gate_value[1], ff_out_->weight,
                           ff_out_->bias);
    }
    return torch::linear(
        torch::gelu(torch::linear(x, ff_in_->weight, ff_in_->bias), gelu_approximation_),
        ff_out_->weight, ff_out_->bias);
  }

  torch::Tensor attend(const torch::Tensor& x, std::int64_t batch, const torch::Tensor& bias,
                       const RotaryAngles& rotation, KeyValues& kv) {
    const std::int64_t rows = x.size(0), width = x.size(1), length = rows / batch;
    const std::int64_t H = heads_, D = head_dim_;
    // One projection for queries, keys and values, then one copy into head-major [3,B,H,T,D] so
    // every head of every sequence is a contiguous [T,D] matrix for the batched products.
    auto qkv = torch::linear(x, qkv_->weight, qkv_->bias)
                   .view({batch, length, 3, H, D})
                   .permute({2, 0, 3, 1, 4})
                   .contiguous()
                   .unbind(0);
    torch::Tensor q = qkv[0], k = qkv[1], v = qkv[2];  // [B,H,T,D]
    if (q_norm_) {
      q = q_norm_->forward(q);
      k = k_norm_->forward(k);
    }
    if (rotation.cos.defined()) {  // only the new keys: cached ones were rotated when computed
      q = apply_rotary(q, rotation);
      k = apply_rotary(k, rotation);
    }
    if (kv.past_keys.defined()) {
      k = torch::cat({kv.past_keys, k}, 2);
      v = torch::cat({kv.past_values, v}, 2);
    }
    if (kv.keep) {
      kv.keys = k;
      kv.values = v;
    }
    const std::int64_t keys = k.size(2);
    auto q3 = q.view({batch * H, length, D});
    auto kt = k.view({batch * H, keys, D}).transpose(1, 2);
    auto v3 = v.view({batch * H, keys, D});
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    // baddbmm adds the mask and scales in the product itself: no separate scale or mask pass.
    auto scores = bias.defined() ? torch::baddbmm(bias, q3, kt, /*beta=*/1.0, /*alpha=*/scale)
                                 : torch::bmm(q3, kt).mul_(scale);
    auto weights = torch::softmax(scores, -1);
    if (dropout_ > 0 && is_training()) weights = torch::dropout(weights, dropout_, true);
    auto y = torch::bmm(weights, v3)
                 .view({batch, H, length, D})
                 .permute({0, 2, 1, 3})
                 .reshape({rows, width});
    return torch::linear(y, proj_->weight, proj_->bias);
  }

  std::int64_t heads_, head_dim_;
  double dropout_;
  bool pre_norm_;
  bool swiglu_;
  const char* gelu_approximation_;
  std::shared_ptr<Norm> attention_norm_, ff_norm_;
  std::shared_ptr<Norm> q_norm_, k_norm_;  // qk_norm only
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, ff_in_{nullptr}, ff_out_{nullptr};
};

}  // namespace transformer

namespace {

/// What the options' declarations cannot say alone: the vocabulary and how the sizes combine.
void check_sizes(const TransformerOptions& o, const BackboneContext& context) {
  check_options(o, "transformer");
  if (context.vocab_size <= 0) {
    throw ConfigError("", "the transformer backbone needs a non-empty vocabulary, got size " +
                              std::to_string(context.vocab_size));
  }
  if (o.width % o.heads != 0) {
    throw ConfigError("", "transformer width " + std::to_string(o.width) +
                              " is not divisible by heads " + std::to_string(o.heads) +
                              "; pick a width that is a multiple of heads");
  }
  if (o.positions == "rotary" && (o.width / o.heads) % 2 != 0) {
    throw ConfigError("", "rotary positions turn pairs of features, but transformer width " +
                              std::to_string(o.width) + " / heads " + std::to_string(o.heads) +
                              " = " + std::to_string(o.width / o.heads) +
                              " per head is odd; pick an even width/heads");
  }
  if (o.dropout >= 1.0) {
    throw ConfigError("",
                      "transformer dropout must lie in [0, 1), got " + std::to_string(o.dropout));
  }
}

}  // namespace

TransformerBackbone::TransformerBackbone(const Options& options, const BackboneContext& context)
    : options_(options) {
  check_sizes(options, context);
  const bool has_padding = context.padding_id >= 0 && context.padding_id < context.vocab_size;
  auto embedding_options = torch::nn::EmbeddingOptions(context.vocab_size, options.width);
  if (has_padding) embedding_options.padding_idx(context.padding_id);
  token_embedding_ = register_module("token_embedding", torch::nn::Embedding(embedding_options));
  if (options.positions == "learned") {
    position_embedding_ = register_module(
        "position_embedding", torch::nn::Embedding(options.max_positions, options.width));
  }
  {
    torch::NoGradGuard no_grad;
    token_embedding_->weight.normal_(0.0, 0.02);
    if (has_padding) token_embedding_->weight[context.padding_id].zero_();
    if (position_embedding_) position_embedding_->weight.normal_(0.0, 0.02);
  }
  auto blocks = register_module("blocks", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < options.layers; ++i) {
    blocks_.push_back(std::make_shared<transformer::Block>(options));
    blocks->push_back(blocks_.back());
  }
  if (options.norm == "pre") {
    final_norm_ = register_module("final_norm",
                                  std::make_shared<transformer::Norm>(options.width, options.bias));
  }
}

torch::Tensor TransformerBackbone::position_encoding(std::int64_t first, std::int64_t length,
                                                     const torch::Device& device) const {
  if (position_embedding_) {
    auto positions = torch::arange(first, first + length, torch::kLong).to(device);
    return torch::embedding(position_embedding_->weight, positions);
  }
  // Vaswani et al.: sin at even, cos at odd features, wavelengths 2*pi to 10000*2*pi.
  const std::int64_t half = (options_.width + 1) / 2;
  auto frequencies = torch::exp(torch::arange(half, torch::kDouble) *
                                (-2.0 * std::log(10000.0) / static_cast<double>(options_.width)));
  auto angles =
      torch::arange(first, first + length, torch::kDouble).unsqueeze(1) * frequencies.unsqueeze(0);
  return torch::stack({angles.sin(), angles.cos()}, 2)
      .view({length, 2 * half})
      .narrow(1, 0, options_.width)
      .to(device, torch::kFloat);
}

Features TransformerBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "transformer backbone expects tokens [B,T], got ",
              input.tokens.sizes());
  const std::size_t cache_size = 2 * blocks_.size() + 2;
  const bool cached = !input.state.empty();
  if (cached) {
    TORCH_CHECK(causal(), "a bidirectional transformer keeps no key/value cache");
    TORCH_CHECK(input.state.size() == cache_size, "transformer backbone expects a cache of ",
                cache_size,
                " tensors (keys and values per block, the window's ids, the offset), got ",
                input.state.size());
    TORCH_CHECK(input.state[0].size(0) == input.tokens.size(0), "transformer cache holds ",
                input.state[0].size(0), " sequences but the input has ", input.tokens.size(0));
  }
  const std::int64_t length = input.tokens.size(1), window = options_.max_positions;
  if (length > window) {
    if (causal() && !is_training()) return forward_long(input);
    throw ConfigError("", "the transformer got a sequence of " + std::to_string(length) +
                              " tokens, more than its max_positions " + std::to_string(window) +
                              "; shorten the task's windows (bptt) or raise max_positions");
  }
  if (!cached) return forward_window(input, causal() && !is_training(), 0);
  const std::int64_t past = input.state[2 * blocks_.size()].size(1);
  const std::int64_t seen = input.state.back().item<std::int64_t>();
  if (past + length <= window) return forward_window(input, true, seen - past);

  // The window is full: re-encode its newest tokens from position 0 together with the new ones,
  // so positions never pass max_positions - 1 and every cached key was computed in the same
  // frame as the queries that read it, as in training. Keeping half a window makes this one
  // longer call every window/2 tokens.
  const std::int64_t keep = std::min({past, window - length, window / 2});
  const torch::Tensor& ids = input.state[2 * blocks_.size()];
  auto tokens = torch::cat({ids.narrow(1, past - keep, keep), input.tokens.to(ids.device())}, 1);
  torch::Tensor mask;
  if (input.mask.defined()) {
    mask = torch::cat({torch::ones({tokens.size(0), keep}, input.mask.options()), input.mask}, 1);
  }
  Features f = forward_window(BackboneInput{tokens, mask, {}}, true, seen - keep);
  return Features{f.sequence.narrow(1, keep, length), input.mask, std::move(f.state)};
}

Features TransformerBackbone::forward_long(const BackboneInput& input) {
  // The first window at once (or, after a cache, the first token), then one token at a time:
  // exactly what generation computes.
  const std::int64_t length = input.tokens.size(1);
  const std::int64_t first = input.state.empty() ? options_.max_positions : 1;
  auto narrow = [&](std::int64_t start, std::int64_t n) {
    return input.mask.defined() ? input.mask.narrow(1, start, n) : torch::Tensor();
  };
  Features step =
      forward(BackboneInput{input.tokens.narrow(1, 0, first), narrow(0, first), input.state});
  std::vector<torch::Tensor> outputs{step.sequence};
  for (std::int64_t t = first; t < length; ++t) {
    step =
        forward(BackboneInput{input.tokens.narrow(1, t, 1), narrow(t, 1), std::move(step.state)});
    outputs.push_back(step.sequence);
  }
  return Features{torch::cat(outputs, 1), input.mask, std::move(step.state)};
}

Features TransformerBackbone::forward_window(const BackboneInput& input, bool keep_cache,
                                             std::int64_t seen_before) {
  const std::int64_t batch = input.tokens.size(0), length = input.tokens.size(1);
  const std::int64_t width = options_.width;
  const std::size_t ids_index = 2 * blocks_.size();
  const bool cached = !input.state.empty();
  const std::int64_t past = cached ? input.state[ids_index].size(1) : 0;
  const std::int64_t keys = past + length;
  const auto device = input.tokens.device();

  torch::Tensor x = token_embedding_->forward(input.tokens);
  transformer::RotaryAngles rotation;  // rotary positions: applied inside attention
  if (options_.positions == "rotary") {
    rotation = transformer::rotary_angles(options_.width / options_.heads, past, length, device);
  } else {
    x = x + position_encoding(past, length, device);
  }
  if (options_.dropout > 0) x = torch::dropout(x, options_.dropout, is_training());
  x = x.view({batch * length, width});

  // Additive attention mask: -inf above the causal diagonal, a large finite negative on padded
  // keys (finite so a row of padding only stays finite instead of turning into NaN).
  const auto float_options = torch::TensorOptions().dtype(x.dtype()).device(device);
  torch::Tensor bias;
  if (causal() && length > 1) {
    bias = torch::full({length, keys}, -std::numeric_limits<float>::infinity(), float_options)
               .triu_(past + 1);
  }
  if (input.mask.defined() && !input.mask.all().item<bool>()) {
    auto real = input.mask.to(device, torch::kBool);
    if (past > 0) real = torch::cat({torch::ones({batch, past}, real.options()), real}, 1);
    auto padding = torch::zeros({batch, 1, 1, keys}, float_options)
                       .masked_fill_(real.logical_not().view({batch, 1, 1, keys}), -1e9);
    if (bias.defined()) padding = padding + bias;
    bias = padding.expand({batch, options_.heads, length, keys})
               .reshape({batch * options_.heads, length, keys});
  }

  State state;
  if (keep_cache) state.reserve(ids_index + 2);
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    transformer::KeyValues kv;
    kv.keep = keep_cache;
    if (cached) {
      kv.past_keys = input.state[2 * i];
      kv.past_values = input.state[2 * i + 1];
    }
    x = blocks_[i]->forward(x, batch, bias, rotation, kv);
    if (keep_cache) {
      state.push_back(std::move(kv.keys));
      state.push_back(std::move(kv.values));
    }
  }
  if (final_norm_) x = final_norm_->forward(x);
  if (keep_cache) {
    state.push_back(cached ? torch::cat({input.state[ids_index], input.tokens}, 1)
                           : input.tokens.contiguous());
    state.push_back(torch::tensor(seen_before + past + length, torch::kLong));
  }
  return Features{x.view({batch, length, width}), input.mask, std::move(state)};
}

std::vector<std::vector<torch::Tensor>> TransformerBackbone::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups;
  groups.reserve(blocks_.size() + 1);
  groups.push_back(token_embedding_->parameters());
  if (position_embedding_) groups[0].push_back(position_embedding_->weight);
  for (auto& block : blocks_) groups.push_back(block->parameters());
  if (final_norm_) {
    for (auto& p : final_norm_->parameters()) groups.back().push_back(p);
  }
  return groups;
}

}  // namespace lmforge
