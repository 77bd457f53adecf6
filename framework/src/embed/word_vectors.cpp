// Queries over one table of word vectors. Cosine scores use the unit rows, so that every query is
// one matrix-vector product over the vocabulary.
#include <algorithm>
#include <limits>

#include "config/suggest.h"
#include "embed/embed_internal.h"
#include "lmforge/embeddings.h"
#include "lmforge/error.h"

namespace lmforge {
namespace {

using embed::kFirstWord;

// The k best-scoring words, best first; specials and `excluded` ids never appear.
std::vector<Neighbour> top_words(const Vocabulary& vocabulary, torch::Tensor scores, std::int64_t k,
                                 const std::vector<std::int64_t>& excluded) {
  if (k <= 0) throw ConfigError("embed", "the number of results must be greater than 0");
  scores = scores.to(torch::kFloat).clone();
  const float minus_infinity = -std::numeric_limits<float>::infinity();
  scores.slice(0, 0, std::min(kFirstWord, scores.size(0))).fill_(minus_infinity);
  std::int64_t available = std::max<std::int64_t>(0, scores.size(0) - kFirstWord);
  std::vector<std::int64_t> unique(excluded);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  for (std::int64_t id : unique) {
    if (id >= kFirstWord && id < scores.size(0)) {
      scores[id] = minus_infinity;
      --available;
    }
  }
  std::vector<Neighbour> out;
  const std::int64_t n = std::min(k, available);
  if (n <= 0) return out;
  auto [values, indices] = scores.topk(n);
  auto v = values.accessor<float, 1>();
  auto i = indices.accessor<std::int64_t, 1>();
  for (std::int64_t r = 0; r < n; ++r) out.push_back({vocabulary.token(i[r]), double(v[r])});
  return out;
}

}  // namespace

WordVectors::WordVectors(Vocabulary vocabulary, torch::Tensor vectors)
    : vocabulary_(std::move(vocabulary)) {
  if (!vectors.defined() || vectors.dim() != 2) {
    throw ConfigError("embed", "word vectors must be a [vocabulary, dimension] matrix");
  }
  if (vectors.size(0) != vocabulary_.size()) {
    throw ConfigError("embed", "the embedding has " + std::to_string(vectors.size(0)) +
                                   " rows but the vocabulary has " +
                                   std::to_string(vocabulary_.size()) + " tokens");
  }
  if (vectors.size(1) < 1) throw ConfigError("embed", "word vectors must have dimension >= 1");
  torch::NoGradGuard no_grad;
  vectors_ = vectors.detach().to(torch::kCPU, torch::kFloat).contiguous();
  norms_ = vectors_.norm(2, 1);
  unit_ = (vectors_ / norms_.clamp_min(1e-12).unsqueeze(1)).contiguous();
}

void WordVectors::set_unknown_word_vectors(
    std::function<torch::Tensor(const std::string&)> vector_of) {
  unknown_word_vectors_ = std::move(vector_of);
}

torch::Tensor WordVectors::vector_of(const std::string& word, std::int64_t& id) const {
  id = -1;
  if (unknown_word_vectors_ && !vocabulary_.contains(word)) {
    torch::Tensor vector = unknown_word_vectors_(word);
    if (vector.defined() && vector.numel() == vectors_.size(1)) {
      return vector.detach().to(torch::kCPU, torch::kFloat).reshape({-1});
    }
    throw ConfigError("embed", "word '" + word +
                                   "' is not in the vocabulary and too short for any character "
                                   "n-gram of the model");
  }
  id = embed::require_word(vocabulary_, word);
  return vectors_[id];
}

namespace {
torch::Tensor unit(const torch::Tensor& vector) { return vector / vector.norm().clamp_min(1e-12); }
}  // namespace

std::vector<Neighbour> WordVectors::nearest(const std::string& word, std::int64_t k,
                                            const std::string& metric) const {
  torch::NoGradGuard no_grad;
  std::int64_t id = -1;
  const torch::Tensor query = vector_of(word, id);
  torch::Tensor scores;
  if (metric == "cosine") {
    scores = unit_.mv(unit(query));
  } else if (metric == "l2") {
    // |v - q|^2 = |v|^2 - 2 v.q + |q|^2 without a [V,D] temporary.
    torch::Tensor squared = norms_.square() - 2 * vectors_.mv(query) + query.dot(query);
    scores = -squared.clamp_min(0).sqrt();
  } else {
    throw ConfigError("embed", "unknown metric '" + metric + "'" +
                                   did_you_mean(metric, {"cosine", "l2"}) +
                                   "; metrics: cosine, l2");
  }
  return top_words(vocabulary_, scores, k, {id});
}

std::vector<Neighbour> WordVectors::analogy(const std::string& a, const std::string& b,
                                            const std::string& c, std::int64_t k) const {
  torch::NoGradGuard no_grad;
  std::int64_t ia = -1, ib = -1, ic = -1;
  const torch::Tensor va = unit(vector_of(a, ia));
  const torch::Tensor vb = unit(vector_of(b, ib));
  const torch::Tensor vc = unit(vector_of(c, ic));
  // Normalising the target does not change the ranking, but makes the scores cosines, the
  // numbers gensim's most_similar reports.
  return top_words(vocabulary_, unit_.mv(unit(vb - va + vc)), k, {ia, ib, ic});
}

double WordVectors::similarity(const std::string& a, const std::string& b) const {
  torch::NoGradGuard no_grad;
  std::int64_t ia = -1, ib = -1;
  return unit(vector_of(a, ia)).dot(unit(vector_of(b, ib))).item<float>();
}

std::vector<std::int64_t> WordVectors::cluster(std::int64_t k, std::int64_t limit,
                                               std::uint64_t seed, std::int64_t iterations) const {
  torch::NoGradGuard no_grad;
  const std::int64_t end = embed::frequent_end(vocabulary_, limit);
  if (end <= kFirstWord) throw ConfigError("embed", "the vocabulary has no words to cluster");
  embed::KMeans result =
      embed::spherical_kmeans(unit_.slice(0, kFirstWord, end), k, seed, iterations);
  const torch::Tensor& assignment = result.assignment;
  return std::vector<std::int64_t>(assignment.data_ptr<std::int64_t>(),
                                   assignment.data_ptr<std::int64_t>() + assignment.numel());
}

std::vector<Neighbour> WordVectors::outliers(std::int64_t k, std::int64_t limit, std::int64_t count,
                                             std::uint64_t seed) const {
  torch::NoGradGuard no_grad;
  if (count <= 0) throw ConfigError("embed", "the number of outliers must be greater than 0");
  const std::int64_t end = embed::frequent_end(vocabulary_, limit);
  if (end <= kFirstWord) throw ConfigError("embed", "the vocabulary has no words to cluster");
  torch::Tensor points = unit_.slice(0, kFirstWord, end);
  embed::KMeans result = embed::spherical_kmeans(points, k, seed, 50);
  torch::Tensor fit = (points * result.centres.index_select(0, result.assignment)).sum(1);
  const std::int64_t n = std::min(count, fit.size(0));
  auto [values, indices] = fit.topk(n, 0, /*largest=*/false);
  auto v = values.accessor<float, 1>();
  auto i = indices.accessor<std::int64_t, 1>();
  std::vector<Neighbour> out;
  for (std::int64_t r = 0; r < n; ++r) {
    out.push_back({vocabulary_.token(kFirstWord + i[r]), double(v[r])});
  }
  return out;
}

}  // namespace lmforge
