#include "embed/embed_internal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "config/suggest.h"
#include "lmforge/error.h"
#include "text/utf8.h"

namespace lmforge::embed {

std::int64_t require_word(const Vocabulary& vocabulary, const std::string& word) {
  if (vocabulary.contains(word)) {
    const std::int64_t id = vocabulary.id(word);
    if (id >= kFirstWord) return id;
    throw ConfigError("embed", "'" + word + "' is a special token, not a word");
  }
  std::vector<std::string> words;
  words.reserve(
      static_cast<std::size_t>(std::max<std::int64_t>(0, vocabulary.size() - kFirstWord)));
  for (std::int64_t id = kFirstWord; id < vocabulary.size(); ++id) {
    words.push_back(vocabulary.token(id));
  }
  throw ConfigError("embed",
                    "word '" + word + "' is not in the vocabulary" + did_you_mean(word, words));
}

std::int64_t frequent_end(const Vocabulary& vocabulary, std::int64_t limit) {
  if (limit < 0) throw ConfigError("embed", "a word limit must be >= 0 (0 = all words)");
  const std::int64_t size = vocabulary.size();
  return limit == 0 ? size : std::min(size, kFirstWord + limit);
}

std::string fold_case(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  std::size_t pos = 0;
  while (pos < word.size()) {
    const auto c = static_cast<unsigned char>(word[pos]);
    if (c < 0x80) {  // ASCII fast path: most benchmark words
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
      ++pos;
      continue;
    }
    text::append_utf8(out, text::to_lower(text::next_code_point(word, pos)));
  }
  return out;
}

KMeans spherical_kmeans(const torch::Tensor& points, std::int64_t k, std::uint64_t seed,
                        std::int64_t iterations) {
  const std::int64_t n = points.size(0);
  if (k < 1) throw ConfigError("embed", "the number of clusters must be at least 1");
  if (k > n) {
    throw ConfigError("embed", "cannot make " + std::to_string(k) + " clusters of " +
                                   std::to_string(n) + " words; use fewer clusters or more words");
  }
  if (iterations < 1) throw ConfigError("embed", "k-means needs at least one iteration");

  // k-means++: each next centre is drawn with probability proportional to its distance from the
  // nearest centre so far; 1 - cos is half the squared Euclidean distance between unit vectors.
  std::mt19937_64 rng(seed);
  std::vector<std::int64_t> chosen{std::uniform_int_distribution<std::int64_t>(0, n - 1)(rng)};
  torch::Tensor best = points.mv(points[chosen[0]]);
  while (static_cast<std::int64_t>(chosen.size()) < k) {
    torch::Tensor distance = (1 - best).clamp_min(0).to(torch::kDouble).contiguous();
    double* d = distance.data_ptr<double>();
    for (std::int64_t c : chosen) d[c] = 0;  // rounding can leave a chosen point just above 0
    const double total = std::accumulate(d, d + n, 0.0);
    std::int64_t next = -1;
    if (total > 0) {
      const double r = std::uniform_real_distribution<double>(0, total)(rng);
      double cumulative = 0;
      for (std::int64_t i = 0; i < n; ++i) {
        if (d[i] <= 0) continue;
        cumulative += d[i];
        next = i;
        if (cumulative > r) break;
      }
    } else {
      // Every point coincides with a centre (duplicated vectors): any unchosen point will do.
      for (std::int64_t i = 0; i < n && next < 0; ++i) {
        if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) next = i;
      }
    }
    chosen.push_back(next);
    best = torch::max(best, points.mv(points[next]));
  }
  torch::Tensor centres =
      points.index_select(0, torch::tensor(chosen, torch::kLong)).clone().contiguous();

  torch::Tensor assignment, similarity;
  for (std::int64_t iteration = 0;; ++iteration) {
    auto [top, index] = points.mm(centres.t()).max(1);
    const bool converged = assignment.defined() && torch::equal(index, assignment);
    assignment = index;
    similarity = top;
    if (converged || iteration == iterations) break;
    torch::Tensor sums = torch::zeros_like(centres).index_add_(0, assignment, points);
    torch::Tensor counts = torch::bincount(assignment, {}, k);
    // An emptied cluster restarts at the points that fit their own cluster worst, so k clusters
    // stay k clusters without depending on chance.
    torch::Tensor empty = (counts == 0).nonzero().flatten();
    if (empty.numel() > 0) {
      torch::Tensor worst = similarity.argsort();
      for (std::int64_t e = 0; e < empty.size(0); ++e) sums[empty[e]] = points[worst[e]];
    }
    centres = sums / sums.norm(2, 1, true).clamp_min(1e-12);
  }
  return {assignment, centres};
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t t = i; t <= j; ++t) ranks[order[t]] = rank;
    i = j + 1;
  }
  return ranks;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = std::min(x.size(), y.size());
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double mx = std::accumulate(x.begin(), x.begin() + n, 0.0) / n;
  const double my = std::accumulate(y.begin(), y.begin() + n, 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson_correlation(average_ranks(x), average_ranks(y));
}

}  // namespace lmforge::embed
