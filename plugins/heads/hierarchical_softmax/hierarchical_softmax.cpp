#include "hierarchical_softmax.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

struct Rows {
  float* weight;
  std::int64_t dim;
  const std::int32_t* nodes;
  const float* labels;
  std::int64_t length;
  const word2vec::SigmoidTable* sigmoid;
};

// word2vec.c's update: a node whose score is beyond +-6 is already decided and left alone. Deep
// nodes are rarely in cache; requesting all rows of the path first overlaps their memory trips.
LMFORGE_WORD2VEC_INLINE float update_rows(const Rows& rows, const float* h, float lr,
                                          float* hidden_update) {
  using word2vec::kMaxScore;
  const std::int64_t dim = rows.dim;
  for (std::int64_t d = 0; d < rows.length; ++d) {
    const char* row = reinterpret_cast<const char*>(rows.weight + rows.nodes[d] * dim);
    for (std::int64_t byte = 0; byte < dim * 4; byte += 64) __builtin_prefetch(row + byte, 1);
    __builtin_prefetch(row + dim * 4 - 1, 1);
  }
  float loss = 0.0f;
  for (std::int64_t d = 0; d < rows.length; ++d) {
    float* node = rows.weight + static_cast<std::int64_t>(rows.nodes[d]) * dim;
    const float f = word2vec::dot(h, node, dim);
    const float label = rows.labels[d];
    loss += rows.sigmoid->nll(label > 0.0f ? f : -f);
    if (f <= -kMaxScore || f >= kMaxScore) continue;
    const float g = (label - rows.sigmoid->sigmoid(f)) * lr;
    word2vec::axpy(g, node, hidden_update, dim);
    word2vec::axpy(g, h, node, dim);
  }
  return loss;
}

// The same loop compiled for AVX2 + FMA, chosen at run time.
LMFORGE_WORD2VEC_AVX2 float update_avx2(const Rows& rows, const float* h, float lr,
                                        float* hidden_update) {
  return update_rows(rows, h, lr, hidden_update);
}

float update_generic(const Rows& rows, const float* h, float lr, float* hidden_update) {
  return update_rows(rows, h, lr, hidden_update);
}

}  // namespace

std::vector<HuffmanPath> build_huffman_tree(const std::vector<std::int64_t>& counts) {
  const std::size_t n = counts.size();
  std::vector<HuffmanPath> paths(n);
  if (n < 2) return paths;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return counts[a] > counts[b]; });
  // Nodes 0..n-1 are the leaves in decreasing count, n..2n-2 the merges in order. Leaves are
  // consumed from the back and merges from the front, so both queues stay sorted (word2vec.c).
  std::vector<std::int64_t> weight(2 * n - 1, std::numeric_limits<std::int64_t>::max());
  std::vector<std::size_t> parent(2 * n - 1, 0);
  std::vector<std::uint8_t> branch(2 * n - 1, 0);
  for (std::size_t i = 0; i < n; ++i) weight[i] = counts[order[i]];
  std::ptrdiff_t leaf = static_cast<std::ptrdiff_t>(n) - 1;
  std::size_t merged = n;
  auto pop_min = [&]() -> std::size_t {
    if (leaf >= 0 && weight[static_cast<std::size_t>(leaf)] < weight[merged]) {
      return static_cast<std::size_t>(leaf--);
    }
    return merged++;
  };
  for (std::size_t a = 0; a + 1 < n; ++a) {
    const std::size_t first = pop_min();
    const std::size_t second = pop_min();
    weight[n + a] = weight[first] + weight[second];
    parent[first] = parent[second] = n + a;
    branch[second] = 1;
  }
  const std::size_t root = 2 * n - 2;
  for (std::size_t i = 0; i < n; ++i) {
    HuffmanPath& path = paths[order[i]];
    for (std::size_t node = i; node != root; node = parent[node]) {
      path.nodes.push_back(static_cast<std::int32_t>(parent[node] - n));
      path.codes.push_back(branch[node]);
    }
    std::reverse(path.nodes.begin(), path.nodes.end());
    std::reverse(path.codes.begin(), path.codes.end());
  }
  return paths;
}

HierarchicalSoftmaxHead::HierarchicalSoftmaxHead(const Options&, const HeadContext& context)
    : dim_(context.input_size), vocab_(context.num_outputs), avx2_(word2vec::cpu_has_avx2()) {
  if (context.input_size <= 0 || context.num_outputs < 2) {
    throw ConfigError("",
                      "the hierarchical_softmax head needs a positive input size and at least "
                      "two words, got " +
                          std::to_string(context.input_size) + " and " +
                          std::to_string(context.num_outputs));
  }
  weight_ =
      register_parameter("weight", torch::zeros({context.num_outputs - 1, context.input_size}));
}

void HierarchicalSoftmaxHead::prepare(const std::vector<std::int64_t>& counts) {
  rows_ = weight_.data_ptr<float>();
  if (counts == counts_ && !offset_.empty()) return;
  if (static_cast<std::int64_t>(counts.size()) != vocab_) {
    throw Error("hierarchical_softmax", "prepare: " + std::to_string(counts.size()) +
                                            " counts for a " + std::to_string(vocab_) +
                                            "-word output layer");
  }
  std::vector<HuffmanPath> paths = build_huffman_tree(counts);
  offset_.assign(1, 0);
  nodes_.clear();
  labels_.clear();
  std::size_t longest = 0;
  for (const HuffmanPath& path : paths) {
    nodes_.insert(nodes_.end(), path.nodes.begin(), path.nodes.end());
    for (std::uint8_t code : path.codes) labels_.push_back(code ? 0.0f : 1.0f);
    offset_.push_back(static_cast<std::int64_t>(nodes_.size()));
    longest = std::max(longest, path.nodes.size());
  }
  path_nodes_ = torch::zeros({vocab_, static_cast<std::int64_t>(longest)}, torch::kLong);
  path_signs_ = torch::zeros({vocab_, static_cast<std::int64_t>(longest)});
  auto nodes = path_nodes_.accessor<std::int64_t, 2>();
  auto signs = path_signs_.accessor<float, 2>();
  for (std::int64_t w = 0; w < vocab_; ++w) {
    const HuffmanPath& path = paths[static_cast<std::size_t>(w)];
    for (std::size_t d = 0; d < path.nodes.size(); ++d) {
      nodes[w][static_cast<std::int64_t>(d)] = path.nodes[d];
      signs[w][static_cast<std::int64_t>(d)] = path.codes[d] ? -1.0f : 1.0f;
    }
  }
  counts_ = counts;
}

HuffmanPath HierarchicalSoftmaxHead::path(std::int64_t id) const {
  TORCH_CHECK(!offset_.empty(), "hierarchical_softmax head: call prepare(counts) first");
  HuffmanPath path;
  for (std::int64_t i = offset_[id]; i < offset_[id + 1]; ++i) {
    path.nodes.push_back(nodes_[static_cast<std::size_t>(i)]);
    path.codes.push_back(labels_[static_cast<std::size_t>(i)] > 0.0f ? 0 : 1);
  }
  return path;
}

torch::Tensor HierarchicalSoftmaxHead::forward(const Features& features) {
  TORCH_CHECK(path_nodes_.defined(), "hierarchical_softmax head: call prepare(counts) first");
  torch::Tensor x = features.sequence;
  auto leading = x.sizes().vec();
  leading.pop_back();
  torch::Tensor scores = torch::matmul(x.reshape({-1, dim_}), weight_.t());  // [N,V-1]
  torch::Tensor nodes = path_nodes_.to(x.device());
  torch::Tensor signs = path_signs_.to(x.device(), x.scalar_type());
  torch::Tensor along =
      scores.index_select(1, nodes.reshape({-1})).view({-1, vocab_, nodes.size(1)});
  torch::Tensor log_probs = (torch::log_sigmoid(along * signs) * signs.abs()).sum(-1);
  leading.push_back(vocab_);
  return log_probs.view(leading);
}

torch::Tensor HierarchicalSoftmaxHead::loss(const torch::Tensor& log_probs,
                                            const torch::Tensor& targets) {
  return torch::nll_loss(log_probs.reshape({-1, log_probs.size(-1)}),
                         targets.reshape({-1}).to(torch::kLong), {}, at::Reduction::Mean, -100);
}

float HierarchicalSoftmaxHead::update(const float* hidden, std::int64_t target, float lr,
                                      float* hidden_update, Word2VecRng&) {
  const auto word = static_cast<std::size_t>(target);
  const auto begin = static_cast<std::size_t>(offset_[word]);
  const Rows rows{rows_,
                  dim_,
                  nodes_.data() + begin,
                  labels_.data() + begin,
                  offset_[word + 1] - offset_[word],
                  &sigmoid_};
  return avx2_ ? update_avx2(rows, hidden, lr, hidden_update)
               : update_generic(rows, hidden, lr, hidden_update);
}

}  // namespace lmforge
