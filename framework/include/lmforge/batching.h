#pragma once
// Deterministic sampling and batching for tasks over examples of token ids: seeded random streams
// and a portable shuffle, the training selection (held-out validation, fraction, limit),
// length-bucketed batches and padding. A plugin task that uses these samples and batches exactly
// like the built-in labelled tasks.
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "lmforge/export.h"
#include "lmforge/vocabulary.h"

namespace lmforge::batching {

/// A random stream derived from the recipe seed, one per `stream` (and `value`, e.g. the epoch),
/// so that changing one option (say `fraction`) leaves the other random choices alone.
LMFORGE_API std::mt19937_64 seeded_rng(std::uint64_t seed, std::uint32_t stream,
                                       std::uint64_t value = 0);

/// Fisher-Yates written out because std::shuffle's sequence is implementation-defined; a seed
/// must select the same examples and batches with every standard library.
template <class T>
void shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[static_cast<std::size_t>(rng() % i)]);
  }
}

/// items[indices[0]], items[indices[1]], ...
template <class T, class Index>
std::vector<T> pick(const std::vector<T>& items, const std::vector<Index>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (auto i : indices) out.push_back(items[static_cast<std::size_t>(i)]);
  return out;
}

/// Rows per batch: a batch_size below 1 still makes progress.
inline std::size_t batch_rows(std::int64_t batch_size) {
  return static_cast<std::size_t>(std::max<std::int64_t>(1, batch_size));
}

/// Which training examples a run keeps: `held_out` for validation (valid_fraction), the rest
/// thinned by `fraction` then `limit`; both in file order.
struct TrainingSelection {
  std::vector<std::size_t> train;
  std::vector<std::size_t> held_out;
};

/// What to select. With `strata` (e.g. each example's label) valid_fraction and fraction act
/// within each stratum, so every label keeps its share and at least one training example.
struct SelectionRule {
  double valid_fraction = 0;
  double fraction = 1;
  std::int64_t limit = 0;
  std::uint64_t seed = 1;
  /// Streams stream_base+1 (held out), +2 (fraction), +3 (limit) of `seed`.
  std::uint32_t stream_base = 0;
};

/// Selects among `count` examples; `strata` is empty (one stratum) or holds one value in
/// [0, num_strata) per example.
LMFORGE_API TrainingSelection select_training(std::size_t count,
                                              const std::vector<std::int64_t>& strata,
                                              std::int64_t num_strata, const SelectionRule& rule);

/// One training epoch's batches of example indices (`Example` has `ids`): shuffled, sorted by
/// length within windows of 50 batches (little padding), cut into batches, and the batch order
/// shuffled, so batches still mix differently from epoch to epoch.
template <class Example>
std::vector<std::vector<std::int64_t>> shuffled_length_buckets(const std::vector<Example>& examples,
                                                               std::size_t rows,
                                                               std::mt19937_64& rng) {
  std::vector<std::int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, rng);
  const std::size_t window = 50 * rows;
  auto longer = [&](std::int64_t x, std::int64_t y) {
    return examples[x].ids.size() > examples[y].ids.size();
  };
  for (std::size_t start = 0; start < order.size(); start += window) {
    std::stable_sort(order.begin() + start, order.begin() + std::min(order.size(), start + window),
                     longer);
  }
  std::vector<std::vector<std::int64_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += rows) {
    batches.emplace_back(order.begin() + start,
                         order.begin() + std::min(order.size(), start + rows));
  }
  shuffle(batches, rng);
  return batches;
}

/// Indices of `examples`, longest first, cut into batches: evaluation and prediction need no
/// shuffling, only little padding.
template <class Example>
std::vector<std::vector<std::int64_t>> longest_first_batches(const std::vector<Example>& examples,
                                                             std::size_t rows) {
  std::vector<std::int64_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
    return examples[x].ids.size() > examples[y].ids.size();
  });
  std::vector<std::vector<std::int64_t>> batches;
  for (std::size_t start = 0; start < order.size(); start += rows) {
    batches.emplace_back(order.begin() + start,
                         order.begin() + std::min(order.size(), start + rows));
  }
  return batches;
}

/// Throws Error at `place` unless `step` is one of the `batches` steps of an epoch.
LMFORGE_API void check_step(const std::string& place, std::int64_t step, std::size_t batches);

/// The token ids of a batch, right-padded with Vocabulary::kPad, on the CPU.
struct PaddedTokens {
  torch::Tensor tokens;  ///< [B,T] int64
  torch::Tensor mask;    ///< [B,T] bool, true for real tokens
  std::int64_t real_tokens = 0;
};

/// Pads the `ids` of `indices` of `examples` to the longest of them (at least 1 wide).
template <class Example>
PaddedTokens pad_tokens(const std::vector<Example>& examples,
                        const std::vector<std::int64_t>& indices) {
  auto rows = static_cast<std::int64_t>(indices.size());
  std::int64_t width = 1;
  for (auto i : indices) width = std::max<std::int64_t>(width, examples[i].ids.size());
  PaddedTokens padded;
  padded.tokens = torch::full({rows, width}, Vocabulary::kPad, torch::kLong);
  padded.mask = torch::zeros({rows, width}, torch::kBool);
  auto tokens = padded.tokens.accessor<std::int64_t, 2>();
  auto mask = padded.mask.accessor<bool, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& ids = examples[indices[r]].ids;
    for (std::size_t t = 0; t < ids.size(); ++t) {
      tokens[r][t] = ids[t];
      mask[r][t] = true;
    }
    padded.real_tokens += static_cast<std::int64_t>(ids.size());
  }
  return padded;
}

}  // namespace lmforge::batching
