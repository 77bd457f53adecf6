#include "cbow.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

// word2vec.c's CBOW pass: the mean of the context rows predicts the centre word, and every context
// row gets the whole update (word2vec.c and gensim's cbow_mean). Up to kCbowBlock consecutive
// centre words go to the head as one block (with negative sampling: one draw of noise words for
// them all, pWord2Vec's sharing); their means are formed before any of the block's updates lands,
// so a context row shared by neighbouring windows takes their updates together. With
// rows.block_rows = 1 each centre word goes alone, as in word2vec.c.
constexpr std::int64_t kCbowBlock = 4;

struct CbowPass {
  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    const std::int64_t capacity = std::min(rows.block_rows, kCbowBlock);
    const float* hidden[kCbowBlock];
    std::int64_t targets[kCbowBlock];
    word2vec::Window windows[kCbowBlock];
    std::int64_t centres[kCbowBlock];
    std::int64_t count = 0;
    auto flush = [&] {
      word2vec::zero(rows.hidden_update, count * dim);
      out.loss += rows.head->update_block(hidden, targets, count, dim, s.lr, rows.hidden_update,
                                          rng);
      out.updates += count;
      for (std::int64_t m = 0; m < count; ++m) {
        const float* update = rows.hidden_update + m * dim;
        for (std::int64_t j = windows[m].lo; j < windows[m].hi; ++j) {
          if (j != centres[m]) word2vec::add(update, rows.input + s.ids[j] * dim, dim);
        }
      }
      count = 0;
    };
    for (std::int64_t i = 0; i < s.length; ++i) {
      word2vec::prefetch_ahead(rows, s, i);
      const auto window = word2vec::draw_window(rows, s, i, rng);
      if (window.hi - window.lo < 2) continue;
      float* h = rows.hidden + count * dim;
      word2vec::zero(h, dim);
      for (std::int64_t j = window.lo; j < window.hi; ++j) {
        if (j != i) word2vec::add(rows.input + s.ids[j] * dim, h, dim);
      }
      word2vec::scale(1.0f / static_cast<float>(window.hi - window.lo - 1), h, dim);
      hidden[count] = h;
      targets[count] = s.ids[i];
      windows[count] = window;
      centres[count] = i;
      if (++count == capacity) flush();
    }
    if (count > 0) flush();
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
