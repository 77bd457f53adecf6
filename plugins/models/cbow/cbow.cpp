#include "cbow.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

// word2vec.c's CBOW pass: the mean of the context rows predicts the centre word, and every context
// row gets the whole update (word2vec.c and gensim's cbow_mean). The pass can hand kCbowBlock
// consecutive centre words to the head as one block (with negative sampling: one draw of noise
// words for them all, pWord2Vec's sharing; their means formed before any of the block's updates
// lands, each context position then taking the sum of its windows' updates in one pass over its
// row). Measured on Gutenberg (12.4M words, three seeds), blocks of 4 trained 15% more words/s
// but lost 1.7 points of analogy accuracy (9.1% against 10.8%), blocks of 2 one point (9.8%):
// CBOW's neighbouring windows share most of their context, so one draw of noise words for them
// pushes nearly the same vector against the same few rows. So each centre word goes alone, with its
// own noise words, as in word2vec.c; the block step still does its products.
constexpr std::int64_t kCbowBlock = 1;

struct CbowPass {
  // Plain functions rather than lambdas: a lambda does not take on the AVX2 target of the pass it
  // sits in.
  struct Block {
    float* hidden[kCbowBlock];
    std::int64_t targets[kCbowBlock];
    word2vec::Window windows[kCbowBlock];
    std::int64_t centres[kCbowBlock];
    std::int64_t count = 0;
  };

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

  LMFORGE_WORD2VEC_INLINE static void flush(const Word2VecRows& rows, const Word2VecSentence& s,
                                            Word2VecRng& rng, Word2VecLoss& out, Block& b) {
    const std::int64_t dim = rows.dim;
    word2vec::zero(rows.hidden_update, b.count * dim);
    out.loss +=
        rows.head->update_block(b.hidden, b.targets, b.count, dim, s.lr, rows.hidden_update, rng);
    out.updates += b.count;
    // Each context position once, with the updates of every window of the block it is in.
    const float* updates[kCbowBlock];
    float ones[kCbowBlock];
    for (float& one : ones) one = 1.0f;
    std::int64_t lo = b.windows[0].lo, hi = b.windows[0].hi;
    for (std::int64_t m = 1; m < b.count; ++m) {
      lo = std::min(lo, b.windows[m].lo);
      hi = std::max(hi, b.windows[m].hi);
    }
    for (std::int64_t j = lo; j < hi; ++j) {
      std::int64_t n = 0;
      for (std::int64_t m = 0; m < b.count; ++m) {
        if (j >= b.windows[m].lo && j < b.windows[m].hi && j != b.centres[m]) {
          updates[n++] = rows.hidden_update + m * dim;
        }
      }
      if (n > 0) word2vec::add_combination(ones, updates, n, rows.input + s.ids[j] * dim, dim);
    }
    b.count = 0;
  }

  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t capacity = std::min(rows.block_rows, kCbowBlock);
    Block b;
    for (std::int64_t i = 0; i < s.length; ++i) {
      word2vec::prefetch_ahead(rows, s, i);
      const auto window = word2vec::draw_window(rows, s, i, rng);
      if (window.hi - window.lo < 2) continue;
      float* h = rows.hidden + b.count * rows.dim;
      mean(rows, s, window, i, h);
      b.hidden[b.count] = h;
      b.targets[b.count] = s.ids[i];
      b.windows[b.count] = window;
      b.centres[b.count] = i;
      if (++b.count == capacity) flush(rows, s, rng, out, b);
    }
    if (b.count > 0) flush(rows, s, rng, out, b);
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
