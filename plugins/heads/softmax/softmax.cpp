#include "softmax.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

struct Rows {
  float* weight;
  float* bias;  // null without bias
  std::int64_t dim;
  std::int64_t vocab;
};

LMFORGE_WORD2VEC_INLINE float update_rows(const Rows& rows, const float* h, std::int64_t target,
                                          float lr, float* hidden_update, float* scores) {
  const std::int64_t dim = rows.dim;
  float top = -INFINITY;
  for (std::int64_t j = 0; j < rows.vocab; ++j) {
    scores[j] = word2vec::dot(h, rows.weight + j * dim, dim) + (rows.bias ? rows.bias[j] : 0.0f);
    top = std::max(top, scores[j]);
  }
  float total = 0.0f;
  for (std::int64_t j = 0; j < rows.vocab; ++j) total += std::exp(scores[j] - top);
  const float loss = std::log(total) - (scores[target] - top);
  const float inverse_total = 1.0f / total;
  for (std::int64_t j = 0; j < rows.vocab; ++j) {
    const float p = std::exp(scores[j] - top) * inverse_total;
    const float g = ((j == target ? 1.0f : 0.0f) - p) * lr;
    float* row = rows.weight + j * dim;
    word2vec::axpy(g, row, hidden_update, dim);
    word2vec::axpy(g, h, row, dim);
    if (rows.bias) rows.bias[j] += g;
  }
  return loss;
}

// The same loop compiled for AVX2 + FMA, chosen at run time.
LMFORGE_WORD2VEC_AVX2 float update_avx2(const Rows& rows, const float* h, std::int64_t target,
                                        float lr, float* hidden_update, float* scores) {
  return update_rows(rows, h, target, lr, hidden_update, scores);
}

float update_generic(const Rows& rows, const float* h, std::int64_t target, float lr,
                     float* hidden_update, float* scores) {
  return update_rows(rows, h, target, lr, hidden_update, scores);
}

}  // namespace

SoftmaxHead::SoftmaxHead(const Options& options, const HeadContext& context)
    : options_(options),
      dim_(context.input_size),
      vocab_(context.num_outputs),
      avx2_(word2vec::cpu_has_avx2()) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw ConfigError("", "the softmax head needs a positive input size and vocabulary size, got " +
                              std::to_string(context.input_size) + " and " +
                              std::to_string(context.num_outputs));
  }
  weight_ = register_parameter("weight", torch::zeros({vocab_, dim_}));
  if (options.bias) bias_ = register_parameter("bias", torch::zeros({vocab_}));
}

torch::Tensor SoftmaxHead::forward(const Features& features) {
  return torch::linear(features.sequence, weight_, bias_);
}

void SoftmaxHead::prepare(const std::vector<std::int64_t>& counts) {
  if (static_cast<std::int64_t>(counts.size()) != vocab_) {
    throw Error("softmax", "prepare: " + std::to_string(counts.size()) + " counts for a " +
                               std::to_string(vocab_) + "-word output layer");
  }
  rows_ = weight_.data_ptr<float>();
  biases_ = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
}

float SoftmaxHead::update(const float* hidden, std::int64_t target, float lr, float* hidden_update,
                          Word2VecRng&) {
  // One buffer per thread, grown once: the fused loop must not allocate per example.
  thread_local std::vector<float> scores;
  if (static_cast<std::int64_t>(scores.size()) < vocab_)
    scores.resize(static_cast<std::size_t>(vocab_));
  const Rows rows{rows_, biases_, dim_, vocab_};
  return avx2_ ? update_avx2(rows, hidden, target, lr, hidden_update, scores.data())
               : update_generic(rows, hidden, target, lr, hidden_update, scores.data());
}

}  // namespace lmforge
