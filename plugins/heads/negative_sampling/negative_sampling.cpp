#include "negative_sampling.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

struct Rows {
  float* weight;
  std::int64_t dim;
  std::int64_t negative;
  const word2vec::SigmoidTable* sigmoid;
};

// label - sigmoid(score), with word2vec.c's rule for saturated scores (|score| >= kMaxScore):
// the full gradient when the sign is wrong, none when it is right.
LMFORGE_WORD2VEC_INLINE float score_gradient(float score, float label,
                                             const word2vec::SigmoidTable& sigmoid) {
  if (score >= word2vec::kMaxScore) return label - 1.0f;
  if (score <= -word2vec::kMaxScore) return label;
  return label - sigmoid.sigmoid(score);
}

template <class Entry>
LMFORGE_WORD2VEC_INLINE std::int64_t draw(const Entry* table, std::uint32_t size,
                                          Word2VecRng& rng) {
  const std::uint64_t r = rng.next();
  const Entry& e = table[((r >> 32) * size) >> 32];
  return static_cast<std::uint32_t>(r) < e.threshold ? e.id : e.alias;
}

LMFORGE_WORD2VEC_INLINE void prefetch_row(const float* row, std::int64_t dim) {
  const char* begin = reinterpret_cast<const char*>(row);
  const char* end = reinterpret_cast<const char*>(row + dim);
  for (const char* line = begin; line < end; line += 64) __builtin_prefetch(line, 1);
  __builtin_prefetch(end - 1, 1);
}

// word2vec.c's update: scores beyond +-6 count as saturated (gradient 0 or +-1), a noise word
// equal to the target is skipped rather than redrawn (as word2vec.c and gensim do). Output rows
// are random rows of a table far larger than the cache, so each costs a memory round trip: the
// noise words are drawn first and all their rows requested at once, so the trips overlap.
template <class Entry>
LMFORGE_WORD2VEC_INLINE float update_rows(const Rows& rows, const Entry* table,
                                          std::uint32_t table_size, const float* h,
                                          std::int64_t target, float lr, float* hidden_update,
                                          Word2VecRng& rng) {
  constexpr std::int64_t kBatch = 16;
  const std::int64_t dim = rows.dim;
  float loss = 0.0f;
  std::int64_t words[kBatch + 1];
  for (std::int64_t done = 0; done < rows.negative;) {
    // The target first, then up to kBatch noise words.
    std::int64_t count = 0;
    if (done == 0) words[count++] = target;
    const std::int64_t noise = std::min(kBatch, rows.negative - done);
    for (std::int64_t k = 0; k < noise; ++k) {
      const std::int64_t word = draw(table, table_size, rng);
      if (word != target) words[count++] = word;
    }
    for (std::int64_t k = 0; k < count; ++k) prefetch_row(rows.weight + words[k] * dim, dim);
    for (std::int64_t k = 0; k < count; ++k) {
      const float label = done == 0 && k == 0 ? 1.0f : 0.0f;
      float* out = rows.weight + words[k] * dim;
      const float f = word2vec::dot(h, out, dim);
      const float g = score_gradient(f, label, *rows.sigmoid) * lr;
      loss += rows.sigmoid->nll(label > 0.0f ? f : -f);
      word2vec::axpy(g, out, hidden_update, dim);
      word2vec::axpy(g, h, out, dim);
    }
    done += noise;
  }
  return loss;
}

// pWord2Vec's step (Ji et al. 2016) for a block of vectors h_m, each with its own target t_m: one
// draw of noise words serves the whole block. With the output rows O = [distinct targets; noise
// words], the scores S = H O^T (only each row's own target and the noise words), the gradients
// G = lr * (label - sigmoid(S)) (word2vec.c's saturation rule; a noise word equal to the row's
// target is skipped), then dH = G O and dO = G^T H, all taken at the rows as they were on entry.
// (Beyond 16 noise words they come in draws of 16, each seeing the output rows the previous one
// left, as update_rows does.)
// For a skip-gram window every h_m is a context row and every t_m the centre word, so the window
// fetches 1 + negative output rows instead of (1 + negative) per context word; the rows stay in L1
// while they are used count times. (Ji et al. gather the rows and call GEMM; at D = 100 and
// blocks of at most 10 x 6 the products are a few hundred fused multiply-adds, cheaper as the
// loops below than as a BLAS call: see the README's word2vec paragraph.)
template <class Entry>
LMFORGE_WORD2VEC_INLINE float update_block_rows(const Rows& rows, const Entry* table,
                                                std::uint32_t table_size,
                                                const float* const* hidden,
                                                const std::int64_t* targets, std::int64_t count,
                                                float lr, float* hidden_update, Word2VecRng& rng) {
  constexpr std::int64_t kRows = word2vec::kMaxBlockRows;
  constexpr std::int64_t kNoise = 16;  // noise words per draw, as in update_rows
  const std::int64_t dim = rows.dim;
  float loss = 0.0f;
  std::int64_t words[kRows + kNoise];
  float* out[kRows + kNoise];  // the rows of `words`
  std::int64_t own[kRows];     // column of row m's target
  float scores[kRows + kNoise];
  float grad[kRows * (kRows + kNoise)];    // [count, columns]
  float grad_t[(kRows + kNoise) * kRows];  // [columns, count]
  std::int64_t distinct = 0;
  for (std::int64_t m = 0; m < count; ++m) {
    std::int64_t c = 0;
    while (c < distinct && words[c] != targets[m]) ++c;
    if (c == distinct) words[distinct++] = targets[m];
    own[m] = c;
  }
  for (std::int64_t done = 0; done < rows.negative;) {
    // The targets in the first round, then up to kNoise noise words shared by every row.
    const std::int64_t first = done == 0 ? distinct : 0;
    const std::int64_t noise = std::min(kNoise, rows.negative - done);
    for (std::int64_t k = 0; k < noise; ++k) words[first + k] = draw(table, table_size, rng);
    const std::int64_t columns = first + noise;
    for (std::int64_t c = 0; c < columns; ++c) {
      out[c] = rows.weight + words[c] * dim;
      prefetch_row(out[c], dim);
    }
    // S = H O^T, then G = lr * (label - sigmoid(S)) where a row scores a column.
    for (std::int64_t m = 0; m < count; ++m) {
      float* g_row = grad + m * columns;
      // A row scores its own target and the noise words; with one target (skip-gram) that is
      // every column.
      const std::int64_t from = first == 1 ? 0 : first;
      word2vec::dots(hidden[m], out + from, columns - from, dim, scores + from);
      if (first > 1) scores[own[m]] = word2vec::dot(hidden[m], out[own[m]], dim);
      for (std::int64_t c = 0; c < columns; ++c) {
        g_row[c] = 0.0f;
        const bool target = c < first;
        if (target ? c != own[m] : words[c] == targets[m]) continue;
        const float f = scores[c];
        loss += rows.sigmoid->nll(target ? f : -f);
        g_row[c] = score_gradient(f, target ? 1.0f : 0.0f, *rows.sigmoid) * lr;
      }
      for (std::int64_t c = 0; c < columns; ++c) grad_t[c * count + m] = g_row[c];
    }
    // dH = G O, at the output rows as they are before dO.
    for (std::int64_t m = 0; m < count; ++m) {
      word2vec::add_combination(grad + m * columns, out, columns, hidden_update + m * dim, dim);
    }
    // dO = G^T H, straight into the shared output rows (Hogwild).
    for (std::int64_t c = 0; c < columns; ++c) {
      word2vec::add_combination(grad_t + c * count, hidden, count, out[c], dim);
    }
    done += noise;
  }
  return loss;
}

template <class Entry>
LMFORGE_WORD2VEC_AVX2 float update_block_avx2(const Rows& rows, const Entry* table,
                                              std::uint32_t table_size, const float* const* hidden,
                                              const std::int64_t* targets, std::int64_t count,
                                              float lr, float* hidden_update, Word2VecRng& rng) {
  return update_block_rows(rows, table, table_size, hidden, targets, count, lr, hidden_update, rng);
}

// The same loop compiled for AVX2 + FMA, chosen at run time.
template <class Entry>
LMFORGE_WORD2VEC_AVX2 float update_avx2(const Rows& rows, const Entry* table,
                                        std::uint32_t table_size, const float* h,
                                        std::int64_t target, float lr, float* hidden_update,
                                        Word2VecRng& rng) {
  return update_rows(rows, table, table_size, h, target, lr, hidden_update, rng);
}

}  // namespace

NegativeSamplingHead::NegativeSamplingHead(const Options& options, const HeadContext& context)
    : options_(options), dim_(context.input_size), avx2_(word2vec::cpu_has_avx2()) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw ConfigError("",
                      "the negative_sampling head needs a positive input size and vocabulary "
                      "size, got " +
                          std::to_string(context.input_size) + " and " +
                          std::to_string(context.num_outputs));
  }
  if (options.negative <= 0) {
    throw ConfigError("", "negative_sampling: negative must be positive, got " +
                              std::to_string(options.negative));
  }
  weight_ = register_parameter("weight", torch::zeros({context.num_outputs, context.input_size}));
}

torch::Tensor NegativeSamplingHead::forward(const Features& features) {
  return torch::matmul(features.sequence, weight_.t());
}

torch::Tensor NegativeSamplingHead::loss(const torch::Tensor& logits,
                                         const torch::Tensor& targets) {
  TORCH_CHECK(noise_.defined(), "negative_sampling head: call prepare(counts) before loss()");
  torch::Tensor flat = logits.reshape({-1, logits.size(-1)});
  torch::Tensor target = targets.reshape({-1}).to(torch::kLong);
  torch::Tensor keep = target != -100;
  flat = flat.index({keep});
  target = target.index({keep});
  const std::int64_t n = target.size(0);
  if (n == 0) return flat.sum() * 0.0;
  torch::Tensor noise =
      torch::multinomial(noise_.to(flat.device()), n * options_.negative, /*replacement=*/true)
          .view({n, options_.negative});
  torch::Tensor positive = flat.gather(1, target.unsqueeze(1)).squeeze(1);
  torch::Tensor negative = flat.gather(1, noise);
  torch::Tensor distinct = (noise != target.unsqueeze(1)).to(flat.scalar_type());
  torch::Tensor per_example =
      -torch::log_sigmoid(positive) - (torch::log_sigmoid(-negative) * distinct).sum(1);
  return per_example.mean();
}

void NegativeSamplingHead::prepare(const std::vector<std::int64_t>& counts) {
  rows_ = weight_.data_ptr<float>();
  if (counts == counts_ && !table_.empty()) return;
  const std::int64_t vocab = weight_.size(0);
  if (static_cast<std::int64_t>(counts.size()) != vocab) {
    throw Error("negative_sampling", "prepare: " + std::to_string(counts.size()) +
                                         " counts for a " + std::to_string(vocab) +
                                         "-word output layer");
  }
  std::vector<double> mass(counts.size(), 0.0);
  double total = 0;
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] <= 0) continue;
    mass[i] = std::pow(static_cast<double>(counts[i]), options_.power);
    total += mass[i];
    ids.push_back(static_cast<std::int32_t>(i));
  }
  if (ids.empty()) throw Error("negative_sampling", "prepare: every word count is zero");

  // Vose's alias method over the words with a positive count.
  const std::size_t n = ids.size();
  std::vector<double> scaled(n);
  std::vector<std::size_t> small, large;
  for (std::size_t k = 0; k < n; ++k) {
    scaled[k] = mass[static_cast<std::size_t>(ids[k])] / total * static_cast<double>(n);
    (scaled[k] < 1.0 ? small : large).push_back(k);
  }
  table_.assign(n, AliasEntry{0, 0, 0});
  auto threshold = [](double p) {
    return static_cast<std::uint32_t>(std::min(4294967295.0, std::floor(p * 4294967296.0)));
  };
  while (!small.empty() && !large.empty()) {
    const std::size_t s = small.back();
    small.pop_back();
    const std::size_t l = large.back();
    table_[s] = AliasEntry{threshold(scaled[s]), ids[s], ids[l]};
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Whatever is left holds probability 1 up to rounding.
  for (std::size_t k : small) table_[k] = AliasEntry{0xFFFFFFFFu, ids[k], ids[k]};
  for (std::size_t k : large) table_[k] = AliasEntry{0xFFFFFFFFu, ids[k], ids[k]};

  std::vector<float> probabilities(mass.size());
  for (std::size_t i = 0; i < mass.size(); ++i) {
    probabilities[i] = static_cast<float>(mass[i] / total);
  }
  noise_ = torch::tensor(probabilities);
  counts_ = counts;
}

std::int64_t NegativeSamplingHead::sample(Word2VecRng& rng) const {
  TORCH_CHECK(!table_.empty(), "negative_sampling head: call prepare(counts) before sample()");
  return draw(table_.data(), static_cast<std::uint32_t>(table_.size()), rng);
}

double NegativeSamplingHead::noise_probability(std::int64_t id) const {
  double p = 0;
  for (const AliasEntry& e : table_) {
    const double keep = static_cast<double>(e.threshold) / 4294967296.0;
    if (e.id == id) p += keep;
    if (e.alias == id) p += 1.0 - keep;
  }
  return table_.empty() ? 0.0 : p / static_cast<double>(table_.size());
}

float NegativeSamplingHead::update(const float* hidden, std::int64_t target, float lr,
                                   float* hidden_update, Word2VecRng& rng) {
  const Rows rows{rows_, dim_, options_.negative, &sigmoid_};
  const auto size = static_cast<std::uint32_t>(table_.size());
  return avx2_ ? update_avx2(rows, table_.data(), size, hidden, target, lr, hidden_update, rng)
               : update_rows(rows, table_.data(), size, hidden, target, lr, hidden_update, rng);
}

float NegativeSamplingHead::update_block(const float* const* hidden, const std::int64_t* targets,
                                         std::int64_t count, std::int64_t dim, float lr,
                                         float* hidden_update, Word2VecRng& rng) {
  if (dim != dim_) {
    throw Error("negative_sampling", "update_block: vectors of " + std::to_string(dim) +
                                         " for a head of width " + std::to_string(dim_));
  }
  const Rows rows{rows_, dim_, options_.negative, &sigmoid_};
  const auto size = static_cast<std::uint32_t>(table_.size());
  float loss = 0.0f;
  // Blocks beyond kMaxBlockRows go in parts, each with its own draw.
  for (std::int64_t from = 0; from < count; from += word2vec::kMaxBlockRows) {
    const std::int64_t n = std::min(word2vec::kMaxBlockRows, count - from);
    loss += avx2_ ? update_block_avx2(rows, table_.data(), size, hidden + from, targets + from, n,
                                      lr, hidden_update + from * dim, rng)
                  : update_block_rows(rows, table_.data(), size, hidden + from, targets + from, n,
                                      lr, hidden_update + from * dim, rng);
  }
  return loss;
}

}  // namespace lmforge
