#pragma once
// A Transformer body (Vaswani et al. 2017) in GPT-2's shape: token + position embeddings, a stack
// of blocks (multi-head self-attention, then a GELU feed-forward, each a residual branch with
// LayerNorm), GPT-2's initialisation. Options add what later models changed: rotary positions
// (RoFormer), a SwiGLU feed-forward (PaLM, LLaMA) and LayerNorm on queries and keys (QK-norm).
// Causal mode drives a language model and keeps a key/value cache so each generated token costs one
// step; bidirectional mode encodes (BERT-like) and honours the key padding mask. The output is
// `width` wide and input_embedding() is the token table, so an lm head can tie its weights.
//
// Example (recipe), nanoGPT's "baby GPT":
//   backbone: {type: transformer, layers: 4, heads: 4, width: 128, max_positions: 64, dropout: 0}
#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace lmforge {

struct TransformerOptions {
  /// "causal" (each position sees itself and the past) or "bidirectional".
  std::string mode = "causal";
  /// Number of blocks.
  std::int64_t layers = 6;
  /// Attention heads per block; must divide width.
  std::int64_t heads = 8;
  /// Model width d_model (embedding, attention and output size).
  std::int64_t width = 512;
  /// Feed-forward inner width as a multiple of width.
  std::int64_t ff_mult = 4;
  /// Dropout on the embeddings, the attention weights and both residual branches.
  double dropout = 0.1;
  /// Longest sequence (the block size); learned positions have this many rows.
  std::int64_t max_positions = 512;
  /// Position encoding: "learned" (GPT-2), "sinusoidal" (Vaswani et al.) or "rotary" (RoFormer:
  /// no table; each head's queries and keys are rotated by their position, so attention scores
  /// depend only on the distance between tokens; needs an even width/heads).
  std::string positions = "learned";
  /// LayerNorm placement: "pre" (GPT-2, plus a final norm) or "post" (original).
  std::string norm = "pre";
  /// Biases in the linear layers and LayerNorms.
  bool bias = true;
  /// Feed-forward activation: "gelu" (exact, erf), "gelu_tanh" (the tanh approximation GPT-2
  /// was trained with, needed to reproduce an imported GPT-2's outputs) or "swiglu" (a gated
  /// feed-forward, silu(x·Wg)·(x·Wv)·Wo, as in PaLM and LLaMA). SwiGLU's inner width is
  /// round(2/3 · ff_mult · width), so its three matrices hold as many weights as GELU's two.
  std::string activation = "gelu";
  /// LayerNorm over each head's queries and keys before their product (QK-norm, Dehghani et al.
  /// 2023): bounds the attention logits, which tolerates larger learning rates.
  bool qk_norm = false;
  /// GPT-2's depth-scaled initialisation: the projections that write into the residual stream
  /// (proj, ff_out) start with std 0.02/sqrt(2·layers) instead of 0.02.
  bool depth_scaled_init = true;

  void visit(OptionVisitor& v) {
    v.choice("mode", mode, {"causal", "bidirectional"},
             "causal (language model, key/value cache) or bidirectional (encoder, padding mask)");
    v.field("layers", layers, "number of Transformer blocks").positive();
    v.field("heads", heads, "attention heads per block (must divide width)").positive();
    v.field("width", width, "model width d_model: embeddings, attention and output").positive();
    v.field("ff_mult", ff_mult, "feed-forward inner width as a multiple of width").positive();
    v.field("dropout", dropout,
            "dropout on the embeddings, the attention weights and both residual branches")
        .range(0.0, 1.0);
    v.field("max_positions", max_positions,
            "longest sequence (block size): training windows may not exceed it; generation "
            "re-encodes the newest half window whenever the cache fills")
        .positive();
    v.choice("positions", positions, {"learned", "sinusoidal", "rotary"},
             "position encoding: learned table (GPT-2), fixed sinusoids, or rotary (queries and "
             "keys rotated by position inside attention; needs an even width/heads)");
    v.choice("norm", norm, {"pre", "post"},
             "LayerNorm before each branch plus a final norm (GPT-2), or after each residual add");
    v.field("bias", bias, "biases in the linear layers and LayerNorms");
    v.choice("activation", activation, {"gelu", "gelu_tanh", "swiglu"},
             "feed-forward activation: exact GELU, its tanh approximation (GPT-2's), or SwiGLU "
             "(gated, inner width round(2/3 ff_mult width): the same weight count as GELU's)");
    v.field("qk_norm", qk_norm, "LayerNorm on each head's queries and keys (QK-norm)");
    v.field("depth_scaled_init", depth_scaled_init,
            "initialise proj and ff_out with std 0.02/sqrt(2 layers) (GPT-2) instead of 0.02");
  }
};

namespace transformer {
class Block;
class Norm;
}  // namespace transformer

/// Key/value cache layout (causal mode): for block i, state[2i] = keys and state[2i+1] = values,
/// each [B,heads,S,width/heads] for the S <= max_positions newest tokens; state[2*layers] = those
/// tokens' ids [B,S] (int64); state[2*layers+1] = a 0-dim int64 CPU tensor, the number of tokens
/// read so far. The next token's position is S. forward() with an empty state returns a fresh
/// cache only when not training; with a cache it attends over the cached and the new tokens and
/// returns the extended cache, so each generated token costs one step.
///
/// When the new tokens would not fit in max_positions, the newest max_positions/2 cached tokens
/// are re-encoded from position 0 together with the new ones (one longer call every
/// max_positions/2 tokens), rather than sliding the cache: cached keys carry the absolute
/// positions they were computed at, so a sliding window shows the model position patterns it never
/// saw in training (with learned positions every token past the window would also share the last
/// row). On the baby GPT of recipes/gpt_char_shakespeare.yaml a sliding cache raised the loss on
/// characters past the window from 1.89 to 3.1-3.3 nats; re-encoding matches nanoGPT's
/// generation, which re-encodes the last max_positions tokens for every character.
///
/// Checkpoint keys: "token_embedding.weight", "position_embedding.weight" (learned), per block i
/// "blocks.<i>.attention_norm.{weight,bias}", "blocks.<i>.qkv.{weight,bias}" (rows: queries, keys,
/// values, each head-major), "blocks.<i>.{q_norm,k_norm}.*" (qk_norm, width/heads wide, shared
/// by the heads), "blocks.<i>.proj.*", "blocks.<i>.ff_norm.*", "blocks.<i>.ff_in.*" (swiglu: the
/// gate's rows, then the value's), "blocks.<i>.ff_out.*", and "final_norm.*" (pre-norm only); no
/// biases when bias is false. With rotary positions the cached keys are stored rotated.
class TransformerBackbone : public Backbone {
 public:
  using Options = TransformerOptions;

  TransformerBackbone(const Options& options, const BackboneContext& context);

  /// tokens [B,T] -> sequence [B,T,width]. T may exceed max_positions only in causal mode when
  /// not training: the input is then read as generation reads it, one token at a time after the
  /// first window.
  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.width; }
  torch::Tensor input_embedding() override { return token_embedding_->weight; }
  /// Embeddings (token + position) first, then one group per block; the final norm joins the
  /// last block.
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  bool causal() const override { return options_.mode == "causal"; }
  /// The state is a key/value cache for generation, not something to carry between windows.
  bool carries_state() const override { return false; }

  const Options& options() const { return options_; }

 private:
  /// Tokens that fit after the cache (if any): positions continue from its length.
  Features forward_window(const BackboneInput& input, bool keep_cache, std::int64_t seen_before);
  Features forward_long(const BackboneInput& input);
  torch::Tensor position_encoding(std::int64_t first, std::int64_t length,
                                  const torch::Device& device) const;

  Options options_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};  // learned positions only
  std::vector<std::shared_ptr<transformer::Block>> blocks_;
  std::shared_ptr<transformer::Norm> final_norm_;  // pre-norm only
};

}  // namespace lmforge
