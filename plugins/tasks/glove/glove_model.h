#pragma once
// GloVe's model (Pennington et al. 2014) as a backbone and a head, so a GloVe stage is a stage
// like any other: checkpoints, resume, `lmforge embed` and `init: {vectors: RUN}` all work.
//
// The `glove` backbone holds the word vectors W and biases b, the context vectors W~ and biases
// b~, and AdaGrad's squared-gradient sums for each (buffers, so a resumed run continues exactly).
// Its input embedding, what `lmforge embed` reads and exports, is W + W~ (the paper's choice and
// the reference tool's -model 2) or W alone. The `glove` head is the weighted least-squares
// objective, f(x) = min(1, (x / x_max)^alpha):
//   J = 1/2 sum f(x_ij) (w_i . w~_j + b_i + b~_j - log x_ij)^2
// The glove task minimises it with its own fused AdaGrad step over the co-occurrence records;
// the autograd forward below computes the same loss for anything else (and for the tests).
//
// Example (recipe):
//   task: {type: glove, train: ${data}/wikitext-2/train.txt, window: 10}
//   backbone: {type: glove, dim: 100, vectors: sum}
//   head: {type: glove, x_max: 100, alpha: 0.75}
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/head.h"
#include "lmforge/options.h"

namespace lmforge::glove {

struct GloveBackboneOptions {
  /// Width of the word vectors.
  std::int64_t dim = 100;
  /// The vectors the stage exports: "sum" (W + W~) or "word" (W).
  std::string vectors = "sum";

  void visit(OptionVisitor& v);
};

/// Checkpoint keys: word [V,dim], word_bias [V], context [V,dim], context_bias [V], and the
/// buffers *_gradsq of the same shapes. Parameters start uniform in +-0.5/dim as in the
/// reference implementation, the squared-gradient sums at 1.
class GloveBackbone : public Backbone {
 public:
  using Options = GloveBackboneOptions;

  GloveBackbone(const Options& options, const BackboneContext& context);

  /// tokens [B,2] of (word id, context id) pairs -> sequence [B,2,dim+1]: position 0 is
  /// (w_i, b_i), position 1 is (w~_j, b~_j); the glove head scores the pair.
  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.dim + 1; }
  /// W + W~ (a new tensor) or W, per `vectors`.
  torch::Tensor input_embedding() override;
  std::vector<std::vector<torch::Tensor>> layer_groups() override {
    return {{word_, word_bias_, context_, context_bias_}};
  }
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }

  std::int64_t dim() const { return options_.dim; }
  /// The tables the fused step updates in place: contiguous float on the CPU.
  struct Tables {
    float* word;
    float* word_bias;
    float* context;
    float* context_bias;
    float* word_gradsq;
    float* word_bias_gradsq;
    float* context_gradsq;
    float* context_bias_gradsq;
  };
  Tables tables();

 private:
  Options options_;
  torch::Tensor word_, word_bias_, context_, context_bias_;
  torch::Tensor word_gradsq_, word_bias_gradsq_, context_gradsq_, context_bias_gradsq_;
};

struct GloveHeadOptions {
  /// Co-occurrence count at which the weight f(x) reaches 1.
  double x_max = 100.0;
  /// Exponent of the weighting function.
  double alpha = 0.75;

  void visit(OptionVisitor& v);
};

/// No parameters: the objective over the backbone's pair features.
class GloveHead : public Head {
 public:
  using Options = GloveHeadOptions;

  GloveHead(const Options& options, const HeadContext& context);

  /// sequence [B,2,dim+1] from the glove backbone -> [B] predicted log co-occurrence.
  torch::Tensor forward(const Features& features) override;
  /// Mean over the batch of 1/2 f(x) (prediction - log x)^2; `targets` are the counts x.
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets) override;

  double x_max() const { return options_.x_max; }
  double alpha() const { return options_.alpha; }

 private:
  Options options_;
};

}  // namespace lmforge::glove
