#pragma once
// word2vec as a backbone + head pair that a task can train without autograd.
//
// Autograd is the wrong shape for word2vec: one example touches a handful of 100-float rows, so
// building a graph per example costs far more than the arithmetic. The word2vec task therefore
// runs word2vec.c's loop itself, on raw float rows shared by all threads (Hogwild), and asks the
// model for two small things through the interfaces below: the backbone runs the pass over one
// sentence -- how each centre word's context becomes the vector(s) the head scores (CBOW: the
// mean of the context rows; skip-gram: each context row; a new backbone: whatever it likes) --
// and the head applies its fused update for one (hidden vector, target word) pair. A new
// word2vec-style backbone is therefore one plugin, with no change to the task or the SDK. Both
// remain ordinary modules with an autograd forward, so they also work (slowly) anywhere a backbone
// or head does.
//
// The interfaces' key functions live in liblmforge, so their typeinfo exists once and
// `dynamic_cast<Word2VecHead*>(&model.head())` works across plugins.
//
// The inline helpers (random numbers, sigmoid tables, vector kernels) are shared by the
// word2vec plugins; each compiles them into its own hot loops.
#include <cmath>
#include <cstdint>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

/// splitmix64: one multiply-xorshift chain per draw, statistically sound and cheap enough to
/// draw negative samples and subsampling decisions inline. Each thread owns one.
class Word2VecRng {
 public:
  explicit Word2VecRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) by multiply-shift (no division, bias below 2^-32).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((next() >> 32) * n) >> 32);
  }

 private:
  std::uint64_t state_;
};

class Word2VecHead;
class Vocabulary;

/// One sentence of a fused pass: vocabulary ids (subsampled, specials removed) and the learning
/// rate for all its updates.
struct Word2VecSentence {
  const std::int32_t* ids;
  std::int64_t length;
  float lr;
};

/// What a pass writes to: the input table and the head, and the worker's scratch rows.
struct Word2VecRows {
  float* input;  ///< [V,dim] input embedding rows, shared by all threads (Hogwild)
  std::int64_t dim;
  std::int64_t window;  ///< the task's maximum window; each centre word draws 1..window
  Word2VecHead* head;
  float* hidden;         ///< [block_rows, dim] scratch for the vector(s) the head scores
  float* hidden_update;  ///< [block_rows, dim] scratch the head adds -lr * d(loss)/d(hidden) to
  /// Rows `hidden` and `hidden_update` hold, and so the most vectors a pass may hand the head in
  /// one `update_block` (one shared draw of noise words). 1 = every vector on its own, as
  /// word2vec.c does; the word2vec task gives 2 * window (at most kMaxBlockRows).
  std::int64_t block_rows = 1;
};

/// Loss summed over a pass's updates, for the task's log.
struct Word2VecLoss {
  double loss = 0;
  std::int64_t updates = 0;
};

/// A backbone whose input embedding the word2vec task trains directly. The table is
/// `input_embedding()`: [V,D] float, contiguous, on the CPU.
class LMFORGE_API Word2VecBackbone {
 public:
  virtual ~Word2VecBackbone();
  /// Trains on one sentence: for each centre word, draws its window (1..rows.window words each
  /// side, from `rng`), forms the vector(s) that predict it from the context rows, calls
  /// `rows.head->update` for each and applies the returned update to the rows it came from.
  /// Called concurrently from several threads on different sentences.
  virtual void train_sentence(const Word2VecRows& rows, const Word2VecSentence& sentence,
                              Word2VecRng& rng, Word2VecLoss& loss) const = 0;
  /// Called by the task before training with the vocabulary the ids come from, for a backbone
  /// whose rows depend on the words' spelling (subwords: lmforge/word_vector_table.h). Default:
  /// nothing.
  virtual void prepare(const Vocabulary& vocabulary);
};

/// Where a subword backbone's extra rows are: word w's character n-gram rows are
/// `ngrams + rows[k] * dim` for k in [offsets[w], offsets[w + 1]), besides its own input row.
struct Word2VecSubwords {
  float* ngrams;                ///< [buckets, dim], shared by all threads (Hogwild)
  const std::int64_t* offsets;  ///< [V + 1]
  const std::int32_t* rows;
};

/// A head with a fused per-example update on raw float rows.
class LMFORGE_API Word2VecHead {
 public:
  virtual ~Word2VecHead();
  /// Builds the head's tables (noise distribution, Huffman tree) from each vocabulary id's
  /// training frequency; ids with count 0 (the specials) are never sampled. Call before `update`
  /// or the autograd forward/loss.
  virtual void prepare(const std::vector<std::int64_t>& counts) = 0;
  /// One SGD step on the loss of predicting `target` from `hidden` [D]: updates the head's own
  /// rows in place (other threads may be updating them too) and adds -lr * d(loss)/d(hidden) to
  /// `hidden_update` [D], which the caller applies to the input rows. Returns the loss in nats.
  virtual float update(const float* hidden, std::int64_t target, float lr, float* hidden_update,
                       Word2VecRng& rng) = 0;
  /// The same step for `count` vectors at once: `hidden[m]` [D] predicts `targets[m]` and
  /// -lr * d(loss)/d(hidden[m]) is added to row m of `hidden_update` [count, D]. A head may take
  /// all the block's gradients at its rows as they were on entry (one small batch) and share its
  /// random choices among the vectors: negative sampling draws one set of noise words for the block
  /// (pWord2Vec, Ji et al. 2016), so a skip-gram window fetches 5 random output rows instead of 5
  /// per context word. `hidden` may point into the input table; the caller applies
  /// `hidden_update` after the call. Default: `update` for each vector in turn.
  virtual float update_block(const float* const* hidden, const std::int64_t* targets,
                             std::int64_t count, std::int64_t dim, float lr, float* hidden_update,
                             Word2VecRng& rng);
};

namespace word2vec {

/// The most vectors one `update_block` call takes (a pass splits larger blocks).
constexpr std::int64_t kMaxBlockRows = 32;

/// Scores beyond +-kMaxScore are treated as saturated, as in word2vec.c (MAX_EXP 6).
constexpr float kMaxScore = 6.0f;

/// sigmoid(x) and -log sigmoid(x) tabulated over [-kMaxScore, kMaxScore]: the fused loops call
/// them once per dot product, where std::exp/std::log would dominate.
class SigmoidTable {
 public:
  static constexpr int kSize = 1024;
  SigmoidTable() {
    for (int i = 0; i <= kSize; ++i) {
      const double x = (2.0 * i / kSize - 1.0) * kMaxScore;
      sigmoid_[i] = static_cast<float>(1.0 / (1.0 + std::exp(-x)));
      nll_[i] = static_cast<float>(std::log1p(std::exp(-x)));
    }
  }
  /// Requires |x| < kMaxScore.
  float sigmoid(float x) const { return sigmoid_[index(x)]; }
  /// -log sigmoid(x) for any x: linear beyond the table, where it is -x or 0 to within 0.25%.
  float nll(float x) const {
    if (x >= kMaxScore) return 0.0f;
    if (x <= -kMaxScore) return -x;
    return nll_[index(x)];
  }

 private:
  static int index(float x) {
    return static_cast<int>((x + kMaxScore) * (kSize / (2 * kMaxScore)) + 0.5f);
  }
  float sigmoid_[kSize + 1];
  float nll_[kSize + 1];
};

// Vector kernels for the fused loops. Plain GCC/Clang vector extensions so they compile for any
// target; a plugin compiles its hot loop twice, once as is and once inside a function marked
// LMFORGE_WORD2VEC_AVX2, and picks one at run time with `cpu_has_avx2()`. Everything is
// always_inline so the kernels take on the instruction set of the function they land in.
#define LMFORGE_WORD2VEC_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__) || defined(__i386__)
#define LMFORGE_WORD2VEC_AVX2 __attribute__((target("avx2,fma")))
inline bool cpu_has_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
#define LMFORGE_WORD2VEC_AVX2
inline bool cpu_has_avx2() { return false; }
#endif

// Unaligned, aliasing-safe view of 8 floats; rows of 100 floats are not 32-byte aligned.
typedef float Float8 __attribute__((vector_size(32), aligned(4), may_alias));

LMFORGE_WORD2VEC_INLINE float dot(const float* a, const float* b, std::int64_t n) {
  // Two accumulators hide the add latency; D = 100 has 12 full vectors and a tail of 4.
  Float8 acc0 = {}, acc1 = {};
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 += *reinterpret_cast<const Float8*>(a + i) * *reinterpret_cast<const Float8*>(b + i);
    acc1 +=
        *reinterpret_cast<const Float8*>(a + i + 8) * *reinterpret_cast<const Float8*>(b + i + 8);
  }
  if (i + 8 <= n) {
    acc0 += *reinterpret_cast<const Float8*>(a + i) * *reinterpret_cast<const Float8*>(b + i);
    i += 8;
  }
  acc0 += acc1;
  float s =
      ((acc0[0] + acc0[4]) + (acc0[1] + acc0[5])) + ((acc0[2] + acc0[6]) + (acc0[3] + acc0[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

/// scores[c] = h . x[c] for c < n: h is read once per 8 floats and stays in a register while the
/// n rows' 8-float pieces stream past it.
LMFORGE_WORD2VEC_INLINE void dots(const float* h, const float* const* x, std::int64_t n,
                                  std::int64_t dim, float* scores) {
  constexpr std::int64_t kCols = 8;
  for (std::int64_t c0 = 0; c0 < n; c0 += kCols) {
    const std::int64_t cols = n - c0 < kCols ? n - c0 : kCols;
    Float8 acc[kCols] = {};
    std::int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      const Float8 hv = *reinterpret_cast<const Float8*>(h + i);
      for (std::int64_t c = 0; c < cols; ++c) {
        acc[c] += hv * *reinterpret_cast<const Float8*>(x[c0 + c] + i);
      }
    }
    for (std::int64_t c = 0; c < cols; ++c) {
      const Float8 a = acc[c];
      float sum = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
      for (std::int64_t k = i; k < dim; ++k) sum += h[k] * x[c0 + c][k];
      scores[c0 + c] = sum;
    }
  }
}

/// y += sum over k < n of a[k] * x[k]: 32 floats of y stay in registers while the n rows pass, so
/// y is loaded and stored once rather than n times (the small matrix products of a block step).
LMFORGE_WORD2VEC_INLINE void add_combination(const float* a, const float* const* x, std::int64_t n,
                                             float* y, std::int64_t dim) {
  std::int64_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    Float8* out = reinterpret_cast<Float8*>(y + i);
    Float8 y0 = out[0], y1 = out[1], y2 = out[2], y3 = out[3];
    for (std::int64_t k = 0; k < n; ++k) {
      const Float8 ak = a[k] - Float8{};
      const Float8* xk = reinterpret_cast<const Float8*>(x[k] + i);
      y0 += ak * xk[0];
      y1 += ak * xk[1];
      y2 += ak * xk[2];
      y3 += ak * xk[3];
    }
    out[0] = y0;
    out[1] = y1;
    out[2] = y2;
    out[3] = y3;
  }
  for (; i + 8 <= dim; i += 8) {
    Float8 y0 = *reinterpret_cast<Float8*>(y + i);
    for (std::int64_t k = 0; k < n; ++k) {
      y0 += (a[k] - Float8{}) * *reinterpret_cast<const Float8*>(x[k] + i);
    }
    *reinterpret_cast<Float8*>(y + i) = y0;
  }
  for (; i < dim; ++i) {
    float sum = y[i];
    for (std::int64_t k = 0; k < n; ++k) sum += a[k] * x[k][i];
    y[i] = sum;
  }
}

/// y += alpha * x
LMFORGE_WORD2VEC_INLINE void axpy(float alpha, const float* x, float* y, std::int64_t n) {
  const Float8 a = {alpha, alpha, alpha, alpha, alpha, alpha, alpha, alpha};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    *reinterpret_cast<Float8*>(y + i) += a * *reinterpret_cast<const Float8*>(x + i);
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

/// y += x
LMFORGE_WORD2VEC_INLINE void add(const float* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    *reinterpret_cast<Float8*>(y + i) += *reinterpret_cast<const Float8*>(x + i);
  }
  for (; i < n; ++i) y[i] += x[i];
}

/// y *= alpha
LMFORGE_WORD2VEC_INLINE void scale(float alpha, float* y, std::int64_t n) {
  const Float8 a = {alpha, alpha, alpha, alpha, alpha, alpha, alpha, alpha};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) *reinterpret_cast<Float8*>(y + i) *= a;
  for (; i < n; ++i) y[i] *= alpha;
}

LMFORGE_WORD2VEC_INLINE void zero(float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = 0.0f;
}

/// hidden += weight * (the mean of word `id`'s own row and its n-gram rows): the word's vector
/// in a subword model (fastText's mean, so a long word's vector is no longer than a short one's).
LMFORGE_WORD2VEC_INLINE void add_word_mean(const Word2VecRows& rows, const Word2VecSubwords& sub,
                                           std::int64_t id, float weight, float* hidden) {
  const std::int64_t begin = sub.offsets[id], end = sub.offsets[id + 1];
  const float share = weight / static_cast<float>(1 + end - begin);
  axpy(share, rows.input + id * rows.dim, hidden, rows.dim);
  for (std::int64_t k = begin; k < end; ++k) {
    axpy(share, sub.ngrams + static_cast<std::int64_t>(sub.rows[k]) * rows.dim, hidden, rows.dim);
  }
}

/// Adds `update` to word `id`'s own row and to every one of its n-gram rows, so the word's
/// vector (their mean) moves by exactly `update`, as a plain word2vec row would: fastText's rule.
LMFORGE_WORD2VEC_INLINE void add_to_word_rows(const Word2VecRows& rows, const Word2VecSubwords& sub,
                                              std::int64_t id, const float* update) {
  add(update, rows.input + id * rows.dim, rows.dim);
  for (std::int64_t k = sub.offsets[id]; k < sub.offsets[id + 1]; ++k) {
    add(update, sub.ngrams + static_cast<std::int64_t>(sub.rows[k]) * rows.dim, rows.dim);
  }
}

/// The window around centre word `i`: word2vec.c's reduced window, 1..rows.window words on each
/// side drawn from `rng`, clipped to the sentence; [lo, hi) includes the centre.
struct Window {
  std::int64_t lo;
  std::int64_t hi;
};
LMFORGE_WORD2VEC_INLINE Window draw_window(const Word2VecRows& rows, const Word2VecSentence& s,
                                           std::int64_t i, Word2VecRng& rng) {
  const std::int64_t reach = rows.window - rng.below(static_cast<std::uint32_t>(rows.window));
  return {i - reach > 0 ? i - reach : 0, i + reach + 1 < s.length ? i + reach + 1 : s.length};
}

/// Requests the input row of the word that enters the window at the next position: rows of rare
/// words are not in cache, and by the time the window reaches it the row has arrived.
LMFORGE_WORD2VEC_INLINE void prefetch_ahead(const Word2VecRows& rows, const Word2VecSentence& s,
                                            std::int64_t i) {
  const std::int64_t ahead = i + rows.window + 1;
  if (ahead >= s.length) return;
  const char* row = reinterpret_cast<const char*>(rows.input + s.ids[ahead] * rows.dim);
  for (std::int64_t byte = 0; byte < rows.dim * 4; byte += 64) __builtin_prefetch(row + byte, 1);
  __builtin_prefetch(row + rows.dim * 4 - 1, 1);
}

/// Runs a backbone's sentence pass compiled for AVX2+FMA where the CPU has it, else as is. `Pass`
/// is a function object whose call operator is LMFORGE_WORD2VEC_INLINE, so each copy of it takes
/// on the instruction set of the function it is inlined into.
template <class Pass>
LMFORGE_WORD2VEC_AVX2 void run_pass_avx2(const Pass& pass, const Word2VecRows& rows,
                                         const Word2VecSentence& s, Word2VecRng& rng,
                                         Word2VecLoss& loss) {
  pass(rows, s, rng, loss);
}
template <class Pass>
void run_pass_generic(const Pass& pass, const Word2VecRows& rows, const Word2VecSentence& s,
                      Word2VecRng& rng, Word2VecLoss& loss) {
  pass(rows, s, rng, loss);
}
template <class Pass>
void run_pass(const Pass& pass, const Word2VecRows& rows, const Word2VecSentence& s,
              Word2VecRng& rng, Word2VecLoss& loss) {
  static const bool avx2 = cpu_has_avx2();
  if (avx2) {
    run_pass_avx2(pass, rows, s, rng, loss);
  } else {
    run_pass_generic(pass, rows, s, rng, loss);
  }
}

}  // namespace word2vec
}  // namespace lmforge
