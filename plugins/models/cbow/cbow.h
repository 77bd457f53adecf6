#pragma once
// word2vec's continuous bag of words (Mikolov et al. 2013): the mean of the context words'
// input vectors predicts the centre word. The only parameter is the input embedding, which is
// what word2vec training produces and `lmforge embed` exports.
//
// Example (recipe):
//   backbone: {type: cbow, dim: 100}
//   head: {type: negative_sampling, negative: 5}
//   task: {type: word2vec, train: ${data}/wikitext-2/train.txt, window: 5}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"
#include "lmforge/word2vec.h"

namespace lmforge {

struct CbowOptions {
  /// Width of the word vectors. Default 100.
  std::int64_t dim = 100;

  void visit(OptionVisitor& v) { v.field("dim", dim, "width of the word vectors").positive(); }
};

/// Checkpoint key: "embedding" [V,dim], initialised uniform in +-1/dim as gensim and fastText do.
class CbowBackbone : public Backbone, public Word2VecBackbone {
 public:
  using Options = CbowOptions;

  CbowBackbone(const Options& options, const BackboneContext& context);

  /// tokens [B,C] context ids with mask [B,C] (undefined = all real) -> sequence [B,1,dim], the
  /// mean of the real context vectors (zero for a row without any).
  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.dim; }
  torch::Tensor input_embedding() override { return embedding_; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {{embedding_}}; }
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }
  Word2VecMode word2vec_mode() const override { return Word2VecMode::kCbow; }

 private:
  Options options_;
  torch::Tensor embedding_;
};

}  // namespace lmforge
