#include "rotary.h"

#include <torch/torch.h>

#include <cmath>

namespace lmforge {
namespace transformer {

RotaryAngles rotary_angles(std::int64_t head_dim, std::int64_t first, std::int64_t length,
                           const c10::Device& device) {
  // In double, so positions in the thousands keep their angles exact to float precision.
  auto frequencies = torch::exp(torch::arange(head_dim / 2, torch::kDouble) *
                                (-2.0 * std::log(10000.0) / static_cast<double>(head_dim)));
  auto angles =
      torch::arange(first, first + length, torch::kDouble).unsqueeze(1) * frequencies.unsqueeze(0);
  angles = torch::cat({angles, angles}, 1);
  return {angles.cos().to(device, torch::kFloat), angles.sin().to(device, torch::kFloat)};
}

at::Tensor apply_rotary(const at::Tensor& x, const RotaryAngles& angles) {
  // (a, b) -> (a cos - b sin, b cos + a sin) for each pair (a, b) = (x[i], x[i + D/2]).
  auto halves = x.chunk(2, -1);
  auto turned = torch::cat({halves[1].neg(), halves[0]}, -1);
  return x * angles.cos.to(x.scalar_type()) + turned * angles.sin.to(x.scalar_type());
}

}  // namespace transformer
}  // namespace lmforge
