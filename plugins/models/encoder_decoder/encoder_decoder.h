#pragma once
// An encoder-decoder Transformer (Vaswani et al. 2017): a bidirectional encoder over the source
// with its padding masked, and a decoder with causal self-attention plus cross-attention to the
// encoder's output. Source and target share one vocabulary (the stage's); their embedding tables
// are one table or two (`share_embeddings`), and an lm head with tie_weights: true ties the output
// projection to the target table (three-way tying when shared). Implements lmforge/seq2seq.h's
// Seq2SeqBody, which the seq2seq task and `lmforge translate` use; Backbone::forward encodes.
//
// Example (recipe), the shape of bentrevett/pytorch-seq2seq's Transformer on Multi30k:
//   backbone: {type: encoder_decoder, layers: 3, heads: 8, width: 256, ff_width: 512,
//              norm: post, activation: relu, dropout: 0.1}
#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"
#include "lmforge/seq2seq.h"

namespace lmforge {

struct EncoderDecoderOptions {
  /// Encoder layers and decoder layers (each).
  std::int64_t layers = 3;
  /// Attention heads; must divide width.
  std::int64_t heads = 8;
  /// Model width d_model.
  std::int64_t width = 256;
  /// Feed-forward inner width.
  std::int64_t ff_width = 512;
  /// Dropout on embeddings, attention weights and residual branches.
  double dropout = 0.1;
  /// Learned positions; the longest source or target sequence.
  std::int64_t max_positions = 256;
  /// "pre" (norm before each branch, final norms) or "post" (norm after each residual add).
  std::string norm = "post";
  /// Feed-forward non-linearity: "relu" (Vaswani et al.) or "gelu".
  std::string activation = "relu";
  /// One embedding table for source and target tokens.
  bool share_embeddings = true;
  /// Multiply token embeddings by sqrt(width) (Vaswani et al.).
  bool scale_embeddings = true;

  void visit(OptionVisitor& v) {
    v.field("layers", layers, "encoder layers and decoder layers (each)").positive();
    v.field("heads", heads, "attention heads (must divide width)").positive();
    v.field("width", width, "model width d_model").positive();
    v.field("ff_width", ff_width, "feed-forward inner width").positive();
    v.field("dropout", dropout, "dropout on embeddings, attention weights and residual branches")
        .range(0.0, 0.99);
    v.field("max_positions", max_positions,
            "learned positions: the longest source or target sequence (the seq2seq task "
            "refuses longer pairs)")
        .positive();
    v.choice("norm", norm, {"pre", "post"},
             "LayerNorm before each branch plus final norms, or after each residual add "
             "(original)");
    v.choice("activation", activation, {"relu", "gelu"}, "feed-forward non-linearity");
    v.field("share_embeddings", share_embeddings,
            "one embedding table for source and target tokens (the vocabulary is shared)");
    v.field("scale_embeddings", scale_embeddings, "multiply token embeddings by sqrt(width)");
  }
};

namespace encoder_decoder {
class EncoderLayer;
class DecoderLayer;
}  // namespace encoder_decoder

/// Decode cache: for decoder layer i, state[4i], state[4i+1] = self-attention keys, values
/// [B,heads,T,width/heads] of the T target tokens read so far; state[4i+2], state[4i+3] =
/// cross-attention keys, values [B,heads,S,width/heads] of the memory (projected once).
///
/// Checkpoint keys: "source_embedding.weight" (separate tables only), "target_embedding.weight",
/// "position_embedding.weight", "encoder.<i>.*", "decoder.<i>.*", "encoder_norm.*" and
/// "decoder_norm.*" (pre-norm only).
class EncoderDecoderBackbone : public Backbone, public Seq2SeqBody {
 public:
  using Options = EncoderDecoderOptions;

  EncoderDecoderBackbone(const Options& options, const BackboneContext& context);

  /// Encodes: tokens [B,S] -> memory [B,S,width].
  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.width; }
  /// The target embedding, which a tied lm head projects with.
  torch::Tensor input_embedding() override { return target_embedding_->weight; }
  /// Embeddings, then each encoder layer, then each decoder layer (final norms join the last of
  /// their stack).
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }

  torch::Tensor encode(const torch::Tensor& source, const torch::Tensor& source_mask) override;
  Features decode(const torch::Tensor& target, const torch::Tensor& memory,
                  const torch::Tensor& source_mask, const State& cache, bool keep_cache) override;
  std::int64_t max_positions() const override { return options_.max_positions; }

  const Options& options() const { return options_; }

 private:
  torch::Tensor embed(const torch::nn::Embedding& table, const torch::Tensor& tokens,
                      std::int64_t first_position);

  Options options_;
  torch::nn::Embedding source_embedding_{nullptr};  // separate tables only
  torch::nn::Embedding target_embedding_{nullptr};
  torch::nn::Embedding position_embedding_{nullptr};
  std::vector<std::shared_ptr<encoder_decoder::EncoderLayer>> encoder_;
  std::vector<std::shared_ptr<encoder_decoder::DecoderLayer>> decoder_;
  torch::nn::LayerNorm encoder_norm_{nullptr}, decoder_norm_{nullptr};  // pre-norm only
};

}  // namespace lmforge
