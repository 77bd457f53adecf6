#include "cbow.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

// word2vec.c's CBOW pass: the mean of the context rows predicts the centre word, and every context
// row gets the whole update (word2vec.c and gensim's cbow_mean).
struct CbowPass {
  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    for (std::int64_t i = 0; i < s.length; ++i) {
      word2vec::prefetch_ahead(rows, s, i);
      const auto [lo, hi] = word2vec::draw_window(rows, s, i, rng);
      if (hi - lo < 2) continue;
      word2vec::zero(rows.hidden, dim);
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j != i) word2vec::add(rows.input + s.ids[j] * dim, rows.hidden, dim);
      }
      word2vec::scale(1.0f / static_cast<float>(hi - lo - 1), rows.hidden, dim);
      word2vec::zero(rows.hidden_update, dim);
      out.loss += rows.head->update(rows.hidden, s.ids[i], s.lr, rows.hidden_update, rng);
      ++out.updates;
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j != i) word2vec::add(rows.hidden_update, rows.input + s.ids[j] * dim, dim);
      }
    }
  }
};

// The same pass with fastText's subwords: each context word's vector is the mean of its own row
// and its n-gram rows, the hidden vector the mean of those, and the update goes to every row of
// every context word.
struct SubwordCbowPass {
  Word2VecSubwords sub;
  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    for (std::int64_t i = 0; i < s.length; ++i) {
      const auto [lo, hi] = word2vec::draw_window(rows, s, i, rng);
      if (hi - lo < 2) continue;
      const float weight = 1.0f / static_cast<float>(hi - lo - 1);
      word2vec::zero(rows.hidden, dim);
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j != i) word2vec::add_word_mean(rows, sub, s.ids[j], weight, rows.hidden);
      }
      word2vec::zero(rows.hidden_update, dim);
      out.loss += rows.head->update(rows.hidden, s.ids[i], s.lr, rows.hidden_update, rng);
      ++out.updates;
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j != i) word2vec::add_to_word_rows(rows, sub, s.ids[j], rows.hidden_update);
      }
    }
  }
};

}  // namespace

Features CbowBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "cbow backbone expects context tokens [B,C], got ",
              input.tokens.sizes());
  torch::Tensor vectors = torch::embedding(word_table(), input.tokens);  // [B,C,D]
  torch::Tensor weight = input.mask.defined()
                             ? input.mask.to(vectors.scalar_type())
                             : torch::ones(input.tokens.sizes(), vectors.options());
  torch::Tensor sum = (vectors * weight.unsqueeze(-1)).sum(1);
  torch::Tensor mean = sum / weight.sum(1, /*keepdim=*/true).clamp_min(1.0);
  return Features{mean.unsqueeze(1), torch::Tensor(), {}};
}

void CbowBackbone::train_sentence(const Word2VecRows& rows, const Word2VecSentence& sentence,
                                  Word2VecRng& rng, Word2VecLoss& loss) const {
  if (has_subwords()) {
    word2vec::run_pass(SubwordCbowPass{subword_rows()}, rows, sentence, rng, loss);
  } else {
    word2vec::run_pass(CbowPass{}, rows, sentence, rng, loss);
  }
}

}  // namespace lmforge
