#pragma once
// Kim (2014)'s convolutional sentence encoder: word embeddings, one bank of 1-D convolutions per
// filter width (3, 4, 5 by default) with `feature_maps` filters each, ReLU, max-over-time
// pooling of every feature map and dropout on the pooled vector. The body ends in one pooled
// vector per sentence, returned as a sequence of length 1, so a classifier head on top has
// nothing left to pool (any pooling but concat gives the vector itself).
//
// Convolutions are "wide" (Kim's code pads every sentence with width - 1 zero vectors on both
// sides), so a sentence shorter than the widest filter still has windows; windows that cover
// no real token are left out of the pooling.
//
// Example (recipe):
//   backbone: {type: cnn, embedding_dim: 300, filter_widths: [3, 4, 5], feature_maps: 100,
//              dropout: 0.5}
//   head: {type: classifier, pooling: first, dropout: 0}
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace lmforge {

struct CnnOptions {
  /// Width of the word embedding.
  std::int64_t embedding_dim = 300;
  /// Filter widths in words; one bank of filters per width.
  std::vector<std::int64_t> filter_widths = {3, 4, 5};
  /// Filters (feature maps) per width.
  std::int64_t feature_maps = 100;
  /// Dropout on the pooled features.
  double dropout = 0.5;

  void visit(OptionVisitor& v);
};

/// Checkpoint keys: "embedding.weight" [V,E] and "conv<i>.{weight,bias}" per filter width.
class CnnBackbone : public Backbone {
 public:
  using Options = CnnOptions;

  CnnBackbone(const Options& options, const BackboneContext& context);

  /// tokens [B,T] (mask [B,T], undefined = all real) -> sequence [B,1,widths*feature_maps]:
  /// each filter's largest ReLU activation over the sentence's windows; mask undefined.
  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override;
  torch::Tensor input_embedding() override { return embedding_->weight; }
  /// {embedding}, {convolutions}.
  std::vector<std::vector<torch::Tensor>> layer_groups() override;
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }

 private:
  Options options_;
  torch::nn::Embedding embedding_{nullptr};
  std::vector<torch::nn::Conv1d> convs_;
};

}  // namespace lmforge
