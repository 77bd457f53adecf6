#pragma once
// The body every word2vec-style backbone shares: one input embedding table [V,dim] and nothing
// else, initialised uniform in +-1/dim as gensim and fastText do. A backbone of that family
// derives from it and says only how a window becomes what its head scores (forward for autograd,
// train_sentence for the word2vec task's fused loop; see lmforge/word2vec.h).
#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/export.h"
#include "lmforge/options.h"
#include "lmforge/word2vec.h"

namespace lmforge {

struct WordVectorTableOptions {
  /// Width of the word vectors.
  std::int64_t dim = 100;
  void visit(OptionVisitor& v) { v.field("dim", dim, "width of the word vectors").positive(); }
};

/// Checkpoint key: "embedding" [V,dim].
class LMFORGE_API WordVectorTable : public Backbone, public Word2VecBackbone {
 public:
  /// `name` is the backbone's registered name, for the error message of an empty vocabulary.
  WordVectorTable(const WordVectorTableOptions& options, const BackboneContext& context,
                  const std::string& name);

  std::int64_t output_size() const override { return dim_; }
  torch::Tensor input_embedding() override { return embedding_; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {{embedding_}}; }
  bool causal() const override { return false; }
  bool carries_state() const override { return false; }

 protected:
  std::int64_t dim_;
  torch::Tensor embedding_;
};

}  // namespace lmforge
