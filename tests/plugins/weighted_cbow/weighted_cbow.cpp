// A third word2vec-style backbone, written as any user would write one: a plugin of its own, with
// no change to the SDK or the word2vec task. Position-weighted CBOW: context word j of centre i
// counts with weight 1/|i-j| (normalised), so near neighbours shape the vector more than far
// ones. The test (tests/plugins/word2vec_test.cpp) loads it from its shared library and trains it.
#include <torch/torch.h>

#include <cmath>

#include "lmforge/plugin.h"
#include "lmforge/word_vector_table.h"

namespace weighted_cbow_plugin {

// The SDK's WordVectorTable holds the [V,dim] table (initialised as word2vec does); this plugin
// adds only how a window becomes the vector the head scores.
class WeightedCbow : public lmforge::WordVectorTable {
 public:
  using Options = lmforge::WordVectorTableOptions;

  WeightedCbow(const Options& options, const lmforge::BackboneContext& context)
      : WordVectorTable(options, context, "weighted_cbow") {}

  // Autograd path (tokens [B,C], centre in the middle column): the same weighting, slowly.
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    const auto width = input.tokens.size(1), centre = width / 2;
    torch::Tensor weight = torch::zeros({width});
    for (std::int64_t j = 0; j < width; ++j) {
      if (j != centre) weight[j] = 1.0 / static_cast<double>(std::abs(j - centre));
    }
    torch::Tensor w = weight.unsqueeze(0).expand(input.tokens.sizes()).clone();
    if (input.mask.defined()) w = w * input.mask.to(torch::kFloat);
    torch::Tensor sum = (torch::embedding(embedding_, input.tokens) * w.unsqueeze(-1)).sum(1);
    return {(sum / w.sum(1, true).clamp_min(1e-6)).unsqueeze(1), torch::Tensor(), {}};
  }
  void train_sentence(const lmforge::Word2VecRows& rows, const lmforge::Word2VecSentence& s,
                      lmforge::Word2VecRng& rng, lmforge::Word2VecLoss& out) const override {
    namespace w2v = lmforge::word2vec;
    for (std::int64_t i = 0; i < s.length; ++i) {
      const auto [lo, hi] = w2v::draw_window(rows, s, i, rng);
      if (hi - lo < 2) continue;
      float total = 0;
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j != i) total += 1.0f / static_cast<float>(std::abs(j - i));
      }
      w2v::zero(rows.hidden, rows.dim);
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j == i) continue;
        const float weight = 1.0f / static_cast<float>(std::abs(j - i)) / total;
        w2v::axpy(weight, rows.input + s.ids[j] * rows.dim, rows.hidden, rows.dim);
      }
      w2v::zero(rows.hidden_update, rows.dim);
      out.loss += rows.head->update(rows.hidden, s.ids[i], s.lr, rows.hidden_update, rng);
      ++out.updates;
      // Each context row moves by its share of the hidden vector (the gradient of the weighted
      // mean).
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j == i) continue;
        const float weight = 1.0f / static_cast<float>(std::abs(j - i)) / total;
        w2v::axpy(weight, rows.hidden_update, rows.input + s.ids[j] * rows.dim, rows.dim);
      }
    }
  }
};

}  // namespace weighted_cbow_plugin

LMFORGE_PLUGIN(weighted_cbow) {
  reg.backbone<weighted_cbow_plugin::WeightedCbow>(
      "weighted_cbow", "CBOW with context words weighted by 1/distance (a test plugin)");
}
