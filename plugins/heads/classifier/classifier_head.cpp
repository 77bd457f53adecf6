#include "classifier_head.h"

#include <torch/torch.h>

#include <limits>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

torch::Tensor gather_positions(const torch::Tensor& sequence, const torch::Tensor& positions) {
  const auto hidden = sequence.size(2);
  auto index = positions.view({-1, 1, 1}).expand({-1, 1, hidden});
  return sequence.gather(1, index).squeeze(1);
}

}  // namespace

ClassifierHead::ClassifierHead(const Options& options, const HeadContext& context)
    : options_(options) {
  const auto& p = options.pooling;
  if (p != "last" && p != "first" && p != "mean" && p != "max" && p != "concat") {
    throw ConfigError("", "unknown classifier pooling '" + p +
                              "'; expected one of last, first, mean, max, concat");
  }
  layers_.build(*this, options, p == "concat" ? 3 * context.input_size : context.input_size,
                context.num_outputs, "classifier");
}

torch::Tensor ClassifierHead::pool(const torch::Tensor& sequence, const torch::Tensor& mask,
                                   const std::string& pooling) {
  TORCH_CHECK(sequence.dim() == 3, "classifier head expects features [B,T,H], got ",
              sequence.sizes());
  const auto length = sequence.size(1);
  if (pooling == "concat") {
    return torch::cat(
        {pool(sequence, mask, "last"), pool(sequence, mask, "max"), pool(sequence, mask, "mean")},
        1);
  }
  if (!mask.defined()) {
    if (pooling == "last") return sequence.select(1, length - 1);
    if (pooling == "first") return sequence.select(1, 0);
    if (pooling == "mean") return sequence.mean(1);
    return sequence.amax(1);
  }
  TORCH_CHECK(mask.dim() == 2 && mask.size(0) == sequence.size(0) && mask.size(1) == length,
              "classifier head expects mask [B,T] matching features ", sequence.sizes(), ", got ",
              mask.sizes());
  const auto real = mask.to(torch::kBool);
  if (pooling == "last" || pooling == "first") {
    // Positions from the mask itself, not from a length count, so left padding works too.
    const auto weights = real.to(torch::kLong);
    auto positions = torch::arange(length, weights.options());
    torch::Tensor index =
        pooling == "last"
            ? (weights * positions).amax(1)
            : (length - (weights * (length - positions)).amax(1)).clamp_max(length - 1);
    return gather_positions(sequence, index);
  }
  const auto real3 = real.unsqueeze(-1);
  if (pooling == "mean") {
    const auto weights = real3.to(sequence.scalar_type());
    return (sequence * weights).sum(1) / weights.sum(1).clamp_min(1);
  }
  auto pooled =
      sequence.masked_fill(real3.logical_not(), -std::numeric_limits<double>::infinity()).amax(1);
  // An all-padding row would otherwise pool to -inf and poison the loss.
  return pooled.masked_fill(real.any(1, /*keepdim=*/true).logical_not(), 0);
}

torch::Tensor ClassifierHead::forward(const Features& features) {
  return layers_.forward(pool(features.sequence, features.mask, options_.pooling), is_training());
}

torch::Tensor ClassifierHead::loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  return layers_.loss(logits, targets.reshape({-1}));
}

}  // namespace lmforge
