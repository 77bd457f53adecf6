#include "train/precision.h"

#include <torch/torch.h>

#include "compat/torch_compat.h"
#include "lmforge/error.h"

namespace lmforge {

Precision parse_precision(const std::string& name, const std::string& place) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") return Precision::kFp16;
  throw ConfigError(place, "precision must be fp32, bf16 or fp16, got '" + name + "'");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
    default:
      return "fp32";
  }
}

MixedPrecision::MixedPrecision(Precision precision, torch::Device device)
    : precision_(precision), device_(device) {}

MixedPrecision::ForwardGuard::ForwardGuard(const MixedPrecision& owner)
    : active_(owner.precision_ != Precision::kFp32), device_(owner.device_.type()) {
  if (!active_) return;
  auto dtype = owner.precision_ == Precision::kBf16 ? at::kBFloat16 : at::kHalf;
  compat::set_autocast(device_, true, dtype);
  at::autocast::increment_nesting();
}

MixedPrecision::ForwardGuard::~ForwardGuard() {
  if (!active_) return;
  // Leaving the outermost autocast region drops the cached low-precision copies of the weights:
  // the optimizer is about to change them.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::set_autocast(device_, false, at::kFloat);
}

torch::Tensor MixedPrecision::scale_loss(const torch::Tensor& loss) const {
  if (precision_ != Precision::kFp16) return loss;
  return loss.to(torch::kFloat) * scale_;
}

bool MixedPrecision::unscale_gradients(const std::vector<torch::Tensor>& params) {
  if (precision_ != Precision::kFp16) return true;
  torch::NoGradGuard no_grad;
  bool finite = true;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    torch::Tensor grad = p.grad();
    grad.mul_(1.0 / scale_);
    if (finite && !torch::isfinite(grad).all().item<bool>()) finite = false;
  }
  if (!finite) {
    scale_ = std::max(1.0, scale_ / 2);
    good_steps_ = 0;
    ++skipped_;
    return false;
  }
  if (++good_steps_ >= growth_interval_) {
    scale_ *= 2;
    good_steps_ = 0;
  }
  return true;
}

std::vector<double> MixedPrecision::state() const {
  return {scale_, static_cast<double>(good_steps_), static_cast<double>(skipped_)};
}

void MixedPrecision::load_state(const std::vector<double>& state) {
  if (state.size() != 3) return;
  scale_ = state[0];
  good_steps_ = static_cast<std::int64_t>(state[1]);
  skipped_ = static_cast<std::int64_t>(state[2]);
}

}  // namespace lmforge
