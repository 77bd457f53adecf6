#include "adagrad_step.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lmforge::glove {

namespace {

// The weight f(x) and the record's offsets; shared by both builds of the loop.
struct Prepared {
  float* w;
  float* c;
  float* gw;
  float* gc;
  float* bw;
  float* bc;
  float* gbw;
  float* gbc;
  float log_count;
  float weight;
};

inline Prepared prepare(const GloveBackbone::Tables& t, const Cooccurrence& r,
                        const AdaGradSettings& s) {
  const std::int64_t wi = r.word, ci = r.context, d = s.dim;
  return Prepared{
      t.word + wi * d,         t.context + ci * d,
      t.word_gradsq + wi * d,  t.context_gradsq + ci * d,
      t.word_bias + wi,        t.context_bias + ci,
      t.word_bias_gradsq + wi, t.context_bias_gradsq + ci,
      std::log(r.count),       r.count >= s.x_max ? 1.0f : std::pow(r.count / s.x_max, s.alpha)};
}

inline void finish_biases(const Prepared& p, float fdiff) {
  // The reference steps the biases by fdiff / sqrt(sum), without eta; kept for equal results.
  *p.bw -= fdiff / std::sqrt(*p.gbw);
  *p.bc -= fdiff / std::sqrt(*p.gbc);
  *p.gbw += fdiff * fdiff;
  *p.gbc += fdiff * fdiff;
}

AdaGradTally update_generic(const GloveBackbone::Tables& t, const Cooccurrence* records,
                            std::size_t count, const AdaGradSettings& s) {
  AdaGradTally tally;
  const std::int64_t d = s.dim;
  for (std::size_t n = 0; n < count; ++n) {
    const Prepared p = prepare(t, records[n], s);
    float dot = 0;
    for (std::int64_t k = 0; k < d; ++k) dot += p.w[k] * p.c[k];
    const float diff = dot + *p.bw + *p.bc - p.log_count;
    const float fdiff = p.weight * diff;
    if (!std::isfinite(fdiff)) {
      ++tally.skipped;
      continue;
    }
    tally.cost += 0.5 * static_cast<double>(fdiff) * static_cast<double>(diff);
    for (std::int64_t k = 0; k < d; ++k) {
      const float g1 = std::clamp(fdiff * p.c[k], -s.grad_clip, s.grad_clip) * s.eta;
      const float g2 = std::clamp(fdiff * p.w[k], -s.grad_clip, s.grad_clip) * s.eta;
      p.w[k] -= g1 / std::sqrt(p.gw[k]);
      p.c[k] -= g2 / std::sqrt(p.gc[k]);
      p.gw[k] += g1 * g1;
      p.gc[k] += g2 * g2;
    }
    finish_biases(p, fdiff);
    ++tally.updates;
  }
  return tally;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) AdaGradTally update_avx2(const GloveBackbone::Tables& t,
                                                             const Cooccurrence* records,
                                                             std::size_t count,
                                                             const AdaGradSettings& s) {
  AdaGradTally tally;
  const std::int64_t d = s.dim;
  const std::int64_t full = d / 8 * 8;
  const __m256 clip_hi = _mm256_set1_ps(s.grad_clip), clip_lo = _mm256_set1_ps(-s.grad_clip);
  const __m256 eta = _mm256_set1_ps(s.eta);
  for (std::size_t n = 0; n < count; ++n) {
    // The next record's rows are almost never in cache: ask for them now.
    if (n + 2 < count) {
      const Cooccurrence& ahead = records[n + 2];
      _mm_prefetch(reinterpret_cast<const char*>(t.word + ahead.word * d), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(t.context + ahead.context * d), _MM_HINT_T0);
    }
    const Prepared p = prepare(t, records[n], s);
    __m256 acc = _mm256_setzero_ps();
    std::int64_t k = 0;
    for (; k < full; k += 8) {
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(p.w + k), _mm256_loadu_ps(p.c + k), acc);
    }
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    half = _mm_hadd_ps(half, half);
    half = _mm_hadd_ps(half, half);
    float dot = _mm_cvtss_f32(half);
    for (; k < d; ++k) dot += p.w[k] * p.c[k];
    const float diff = dot + *p.bw + *p.bc - p.log_count;
    const float fdiff = p.weight * diff;
    if (!std::isfinite(fdiff)) {
      ++tally.skipped;
      continue;
    }
    tally.cost += 0.5 * static_cast<double>(fdiff) * static_cast<double>(diff);
    const __m256 f = _mm256_set1_ps(fdiff);
    for (k = 0; k < full; k += 8) {
      const __m256 w = _mm256_loadu_ps(p.w + k), c = _mm256_loadu_ps(p.c + k);
      const __m256 gw = _mm256_loadu_ps(p.gw + k), gc = _mm256_loadu_ps(p.gc + k);
      const __m256 g1 =
          _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(f, c), clip_lo), clip_hi), eta);
      const __m256 g2 =
          _mm256_mul_ps(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(f, w), clip_lo), clip_hi), eta);
      _mm256_storeu_ps(p.w + k, _mm256_sub_ps(w, _mm256_div_ps(g1, _mm256_sqrt_ps(gw))));
      _mm256_storeu_ps(p.c + k, _mm256_sub_ps(c, _mm256_div_ps(g2, _mm256_sqrt_ps(gc))));
      _mm256_storeu_ps(p.gw + k, _mm256_fmadd_ps(g1, g1, gw));
      _mm256_storeu_ps(p.gc + k, _mm256_fmadd_ps(g2, g2, gc));
    }
    for (; k < d; ++k) {
      const float g1 = std::clamp(fdiff * p.c[k], -s.grad_clip, s.grad_clip) * s.eta;
      const float g2 = std::clamp(fdiff * p.w[k], -s.grad_clip, s.grad_clip) * s.eta;
      p.w[k] -= g1 / std::sqrt(p.gw[k]);
      p.c[k] -= g2 / std::sqrt(p.gc[k]);
      p.gw[k] += g1 * g1;
      p.gc[k] += g2 * g2;
    }
    finish_biases(p, fdiff);
    ++tally.updates;
  }
  return tally;
}

bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#endif

}  // namespace

AdaGradTally adagrad_update(const GloveBackbone::Tables& tables, const Cooccurrence* records,
                            std::size_t count, const AdaGradSettings& settings) {
#if defined(__x86_64__)
  static const bool avx2 = cpu_has_avx2();
  if (avx2) return update_avx2(tables, records, count, settings);
#endif
  return update_generic(tables, records, count, settings);
}

}  // namespace lmforge::glove
