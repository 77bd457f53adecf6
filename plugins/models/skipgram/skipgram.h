#pragma once
// word2vec's skip-gram (Mikolov et al. 2013): each word's input vector predicts the words around
// it. Trained as word2vec.c and gensim do, each context word's vector predicts the centre word,
// which visits the same pairs and updates one input row per pair. The only parameter is the
// input embedding, which is what `lmforge embed` exports.
//
// Example (recipe):
//   backbone: {type: skipgram, dim: 100}
//   head: {type: negative_sampling, negative: 5}
//   task: {type: word2vec, train: ${data}/wikitext-2/train.txt, window: 5}
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"
#include "lmforge/word2vec.h"

namespace lmforge {

struct SkipGramOptions {
  /// Width of the word vectors. Default 100.
  std::int64_t dim = 100;

  void visit(OptionVisitor& v) { v.field("dim", dim, "width of the word vectors").positive(); }
};

/// Checkpoint key: "embedding" [V,dim], initialised uniform in +-1/dim as gensim and fastText do.
class SkipGramBackbone : public Backbone, public Word2VecBackbone {
 public:
  using Options = SkipGramOptions;

  SkipGramBackbone(const Options& options, const BackboneContext& context);

  /// tokens [B,T] -> sequence [B,T,dim], each token's vector (the head predicts a word it occurs
  /// with).
  Features forward(const BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.dim; }
  torch::Tensor input_embedding() override { return embedding_; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {{embedding_}}; }
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }
  Word2VecMode word2vec_mode() const override { return Word2VecMode::kSkipGram; }

 private:
  Options options_;
  torch::Tensor embedding_;
};

}  // namespace lmforge
