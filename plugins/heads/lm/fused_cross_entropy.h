#pragma once
// Output projection and cross-entropy in one autograd node, for large vocabularies.
//
// The plain path stores the [N,V] logits, their log-softmax, the gradient of the loss and the
// gradient of the log-softmax: four tensors of N*V floats (93 MB each for a WikiText-2 LSTM step)
// written and read about seven times, which on a 2-core machine costs more than a tenth of the
// step. Here the forward pass computes the logits once, turns them in place into the gradient
// (softmax minus one-hot) and runs the two gradient products right away, keeping only the
// [N,H] and [V,H] results for backward; the same matrix products, three fewer passes over memory.
// Without gradients (evaluation) it computes the loss only.
#include <torch/types.h>

namespace lmforge {

/// Mean cross-entropy of linear(hidden, weight, bias) [N,V] against `targets` [N]; rows whose
/// target is -100 are ignored (the mean is over the others). `bias` may be undefined.
/// Rows are processed in chunks of at most `max_chunk_bytes` of logits.
torch::Tensor fused_linear_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& weight,
                                         const torch::Tensor& bias, const torch::Tensor& targets,
                                         std::int64_t max_chunk_bytes = std::int64_t{256} << 20);

}  // namespace lmforge
