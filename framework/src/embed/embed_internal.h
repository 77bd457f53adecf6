#pragma once
// Helpers shared by the word-vector sources (lookup with suggestions, case folding, k-means,
// rank statistics). Internal: not part of the SDK.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/vocabulary.h"

namespace lmforge::embed {

/// Ids below this are the specials (<pad>, <unk>, <bos>, <eos>), never words.
constexpr std::int64_t kFirstWord = Vocabulary::kEos + 1;

/// Id of `word`; throws ConfigError("embed", ...) with a did-you-mean over the vocabulary when the
/// word is unknown or is one of the specials.
std::int64_t require_word(const Vocabulary& vocabulary, const std::string& word);

/// One past the last id of the `limit` most frequent words (0 = all). The tokenizer gives ids in
/// descending frequency after the specials, so "most frequent N" is [kFirstWord, kFirstWord + N).
std::int64_t frequent_end(const Vocabulary& vocabulary, std::int64_t limit);

/// Key for case-insensitive matching (simple per-code-point lowercase; Hangul is unchanged).
std::string fold_case(std::string_view word);

struct KMeans {
  torch::Tensor assignment;  ///< [N] int64 cluster of each point
  torch::Tensor centres;     ///< [k,D] unit vectors
};

/// Spherical k-means (cosine) over unit rows `points` [N,D], k-means++ initialisation drawn from
/// `seed`. Throws ConfigError when k is not in [1, N].
KMeans spherical_kmeans(const torch::Tensor& points, std::int64_t k, std::uint64_t seed,
                        std::int64_t iterations);

/// 1-based ranks, tied values sharing the average of their ranks (as scipy.stats.rankdata).
std::vector<double> average_ranks(const std::vector<double>& values);
/// Pearson correlation; NaN with fewer than two values or when either side is constant.
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
/// Spearman's rho: Pearson on average ranks (scipy.stats.spearmanr).
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace lmforge::embed
