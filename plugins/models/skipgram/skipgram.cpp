#include "skipgram.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

// word2vec.c's skip-gram pass: each context row in turn predicts the centre word and takes its
// update at once.
struct SkipGramPass {
  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    for (std::int64_t i = 0; i < s.length; ++i) {
      word2vec::prefetch_ahead(rows, s, i);
      const auto [lo, hi] = word2vec::draw_window(rows, s, i, rng);
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j == i) continue;
        float* row = rows.input + s.ids[j] * dim;
        word2vec::zero(rows.hidden_update, dim);
        out.loss += rows.head->update(row, s.ids[i], s.lr, rows.hidden_update, rng);
        ++out.updates;
        word2vec::add(rows.hidden_update, row, dim);
      }
    }
  }
};

}  // namespace

Features SkipGramBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "skipgram backbone expects tokens [B,T], got ",
              input.tokens.sizes());
  return Features{torch::embedding(embedding_, input.tokens), input.mask, {}};
}

void SkipGramBackbone::train_sentence(const Word2VecRows& rows, const Word2VecSentence& sentence,
                                      Word2VecRng& rng, Word2VecLoss& loss) const {
  word2vec::run_pass(SkipGramPass{}, rows, sentence, rng, loss);
}

}  // namespace lmforge
