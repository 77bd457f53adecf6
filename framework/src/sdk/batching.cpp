#include "lmforge/batching.h"

#include <cmath>

#include "lmforge/error.h"

namespace lmforge::batching {
namespace {

// Keeps the first `keep(n)` of each stratum's shuffled indices (from `pool`); returns {kept,
// rest}, each in file order so the result depends on the seed only. With one stratum this is a
// plain random choice of keep(n) indices.
template <class Keep>
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> stratified_choice(
    const std::vector<std::size_t>& pool, const std::vector<std::int64_t>& strata,
    std::int64_t num_strata, std::mt19937_64 rng, Keep keep) {
  std::vector<std::vector<std::size_t>> by_stratum(
      static_cast<std::size_t>(std::max<std::int64_t>(1, num_strata)));
  for (std::size_t i : pool) {
    by_stratum[strata.empty() ? 0 : static_cast<std::size_t>(strata[i])].push_back(i);
  }
  std::vector<std::size_t> kept, rest;
  for (auto& indices : by_stratum) {
    if (indices.empty()) continue;
    shuffle(indices, rng);
    std::size_t k = std::min(indices.size(), keep(indices.size()));
    kept.insert(kept.end(), indices.begin(), indices.begin() + k);
    rest.insert(rest.end(), indices.begin() + k, indices.end());
  }
  std::sort(kept.begin(), kept.end());
  std::sort(rest.begin(), rest.end());
  return {kept, rest};
}

std::size_t rounded(std::size_t n, double f) {
  return static_cast<std::size_t>(std::llround(static_cast<double>(n) * f));
}

}  // namespace

std::mt19937_64 seeded_rng(std::uint64_t seed, std::uint32_t stream, std::uint64_t value) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    stream, static_cast<std::uint32_t>(value),
                    static_cast<std::uint32_t>(value >> 32)};
  return std::mt19937_64(seq);
}

TrainingSelection select_training(std::size_t count, const std::vector<std::int64_t>& strata,
                                  std::int64_t num_strata, const SelectionRule& rule) {
  TrainingSelection selection;
  selection.train.resize(count);
  std::iota(selection.train.begin(), selection.train.end(), 0);
  // Held out before fraction/limit so every label-efficiency run is scored on the same examples.
  if (rule.valid_fraction > 0) {
    double f = rule.valid_fraction;
    auto [held, rest] = stratified_choice(
        selection.train, strata, num_strata, seeded_rng(rule.seed, rule.stream_base + 1),
        // Keep at least one training example of every stratum.
        [f](std::size_t n) { return std::min(n - 1, rounded(n, f)); });
    selection.held_out = std::move(held);
    selection.train = std::move(rest);
  }
  if (rule.fraction < 1) {
    double f = rule.fraction;
    selection.train =
        stratified_choice(selection.train, strata, num_strata,
                          seeded_rng(rule.seed, rule.stream_base + 2),
                          [f](std::size_t n) { return std::max<std::size_t>(1, rounded(n, f)); })
            .first;
  }
  if (rule.limit > 0 && rule.limit < static_cast<std::int64_t>(selection.train.size())) {
    auto keep = static_cast<std::size_t>(rule.limit);
    selection.train =
        stratified_choice(selection.train, {}, 1, seeded_rng(rule.seed, rule.stream_base + 3),
                          [keep](std::size_t) { return keep; })
            .first;
  }
  return selection;
}

void check_step(const std::string& place, std::int64_t step, std::size_t batches) {
  if (step < 0 || step >= static_cast<std::int64_t>(batches)) {
    throw Error(place, "training step " + std::to_string(step) + " is outside the " +
                           std::to_string(batches) + " batches of an epoch");
  }
}

}  // namespace lmforge::batching
