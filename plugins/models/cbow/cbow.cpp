#include "cbow.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

// word2vec.c's CBOW pass: the mean of the context rows predicts the centre word, and every context
// row gets the whole update (word2vec.c and gensim's cbow_mean). Each centre word goes to the head
// alone, with its own noise words, as in word2vec.c. Sharing one draw of noise words among
// consecutive centre words (pWord2Vec's blocks, as the skip-gram pass does for a window) was
// measured on Gutenberg (12.4M words, three seeds): blocks of 4 trained 15% more words/s but lost
// 1.7 points of analogy accuracy (9.1% against 10.8%), blocks of 2 one point (9.8%): neighbouring
// windows share most of their context, so one draw pushes nearly the same vector against the same
// few rows.
struct CbowPass {
  // A plain function rather than a lambda: a lambda does not take on the AVX2 target of the pass.
  // hidden = the mean of the window's context rows, summed 32 rows at a time in registers.
  LMFORGE_WORD2VEC_INLINE static void mean(const Word2VecRows& rows, const Word2VecSentence& s,
                                           word2vec::Window w, std::int64_t centre, float* h) {
    constexpr std::int64_t kChunk = 32;
    const float* context[kChunk];
    float share[kChunk];
    const float weight = 1.0f / static_cast<float>(w.hi - w.lo - 1);
    word2vec::zero(h, rows.dim);
    std::int64_t n = 0;
    for (std::int64_t j = w.lo; j < w.hi; ++j) {
      if (j == centre) continue;
      context[n] = rows.input + s.ids[j] * rows.dim;
      share[n] = weight;
      if (++n == kChunk) {
        word2vec::add_combination(share, context, n, h, rows.dim);
        n = 0;
      }
    }
    if (n > 0) word2vec::add_combination(share, context, n, h, rows.dim);
  }

  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    for (std::int64_t i = 0; i < s.length; ++i) {
      word2vec::prefetch_ahead(rows, s, i);
      const auto window = word2vec::draw_window(rows, s, i, rng);
      if (window.hi - window.lo < 2) continue;
      mean(rows, s, window, i, rows.hidden);
      // A block of one: the head's block step, with the centre word's own noise words.
      const float* hidden = rows.hidden;
      const std::int64_t target = s.ids[i];
      word2vec::zero(rows.hidden_update, dim);
      out.loss += rows.head->update_block(&hidden, &target, 1, dim, s.lr, rows.hidden_update, rng);
      ++out.updates;
      for (std::int64_t j = window.lo; j < window.hi; ++j) {
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
