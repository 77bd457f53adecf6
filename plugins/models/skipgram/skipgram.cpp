#include "skipgram.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

// word2vec.c's skip-gram pass: each context row predicts the centre word. The context rows of one
// window go to the head as one block (pWord2Vec, Ji et al. 2016): with negative sampling they
// share one draw of noise words, and all of them are scored against the centre's output row and
// those noise rows before any of the rows moves. With rows.block_rows = 1 each pair goes alone,
// with its own noise words, as in word2vec.c.
struct SkipGramPass {
  // A plain function rather than a lambda: a lambda does not take on the AVX2 target of the pass.
  LMFORGE_WORD2VEC_INLINE static void flush(const Word2VecRows& rows, const Word2VecSentence& s,
                                            Word2VecRng& rng, Word2VecLoss& out, float** inputs,
                                            const std::int64_t* targets, std::int64_t count) {
    const std::int64_t dim = rows.dim;
    word2vec::zero(rows.hidden_update, count * dim);
    out.loss += rows.head->update_block(inputs, targets, count, dim, s.lr, rows.hidden_update, rng);
    out.updates += count;
    for (std::int64_t m = 0; m < count; ++m) {
      word2vec::add(rows.hidden_update + m * dim, inputs[m], dim);
    }
  }

  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    const std::int64_t capacity = std::min(rows.block_rows, word2vec::kMaxBlockRows);
    float* inputs[word2vec::kMaxBlockRows];
    std::int64_t targets[word2vec::kMaxBlockRows];
    for (std::int64_t i = 0; i < s.length; ++i) {
      word2vec::prefetch_ahead(rows, s, i);
      const auto [lo, hi] = word2vec::draw_window(rows, s, i, rng);
      std::int64_t count = 0;
      for (std::int64_t j = lo; j < hi; ++j) {
        if (j == i) continue;
        inputs[count] = rows.input + s.ids[j] * dim;
        targets[count] = s.ids[i];
        if (++count == capacity) {
          flush(rows, s, rng, out, inputs, targets, count);
          count = 0;
        }
      }
      if (count > 0) flush(rows, s, rng, out, inputs, targets, count);
    }
  }
};

// The same pairs with fastText's subwords, turned around as fastText turns them: a word's vector
// (the mean of its own row and its n-gram rows) is formed once and predicts each word of its
// window, and the updates it collects go to all its rows once. Forming the vector and spreading
// the update touch 20 to 40 rows, so doing that once per window instead of once per pair is what
// keeps subwords affordable; within one window the vector is held still, as CBOW's is.
struct SubwordSkipGramPass {
  Word2VecSubwords sub;
  LMFORGE_WORD2VEC_INLINE void operator()(const Word2VecRows& rows, const Word2VecSentence& s,
                                          Word2VecRng& rng, Word2VecLoss& out) const {
    const std::int64_t dim = rows.dim;
    for (std::int64_t j = 0; j < s.length; ++j) {
      const auto [lo, hi] = word2vec::draw_window(rows, s, j, rng);
      if (hi - lo < 2) continue;
      word2vec::zero(rows.hidden, dim);
      word2vec::add_word_mean(rows, sub, s.ids[j], 1.0f, rows.hidden);
      word2vec::zero(rows.hidden_update, dim);
      for (std::int64_t i = lo; i < hi; ++i) {
        if (i == j) continue;
        out.loss += rows.head->update(rows.hidden, s.ids[i], s.lr, rows.hidden_update, rng);
        ++out.updates;
      }
      word2vec::add_to_word_rows(rows, sub, s.ids[j], rows.hidden_update);
    }
  }
};

}  // namespace

Features SkipGramBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "skipgram backbone expects tokens [B,T], got ",
              input.tokens.sizes());
  return Features{torch::embedding(word_table(), input.tokens), input.mask, {}};
}

void SkipGramBackbone::train_sentence(const Word2VecRows& rows, const Word2VecSentence& sentence,
                                      Word2VecRng& rng, Word2VecLoss& loss) const {
  if (has_subwords()) {
    word2vec::run_pass(SubwordSkipGramPass{subword_rows()}, rows, sentence, rng, loss);
  } else {
    word2vec::run_pass(SkipGramPass{}, rows, sentence, rng, loss);
  }
}

}  // namespace lmforge
