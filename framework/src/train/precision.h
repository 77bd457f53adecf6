#pragma once
// Mixed precision for the training step: `precision: fp32 | bf16 | fp16`. The weights (and so the
// optimizer and every checkpoint) stay fp32 -- the master copy -- while autocast runs the matrix
// products of the forward pass in bf16 or fp16. fp16's narrow range needs a loss scale: the loss
// is multiplied before backward, the gradients divided after, and a step whose gradients
// overflowed is skipped (and counted) with the scale halved; after `growth_interval` good steps
// the scale doubles again (PyTorch's GradScaler rule).
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lmforge {

enum class Precision { kFp32, kBf16, kFp16 };

/// Parses "fp32" | "bf16" | "fp16"; throws ConfigError at `place` otherwise.
Precision parse_precision(const std::string& name, const std::string& place);
const char* precision_name(Precision precision);

class MixedPrecision {
 public:
  MixedPrecision(Precision precision, torch::Device device);

  /// Autocast on for the lifetime of the guard (the forward pass and loss), off after it.
  class ForwardGuard {
   public:
    explicit ForwardGuard(const MixedPrecision& owner);
    ~ForwardGuard();
    ForwardGuard(const ForwardGuard&) = delete;
    ForwardGuard& operator=(const ForwardGuard&) = delete;

   private:
    bool active_;
    c10::DeviceType device_;
  };
  ForwardGuard forward() const { return ForwardGuard(*this); }

  /// The loss to back-propagate: scaled for fp16, as is otherwise.
  torch::Tensor scale_loss(const torch::Tensor& loss) const;
  /// Divides the gradients by the scale; false when any is inf or NaN (the step must be skipped,
  /// and the scale has been lowered). Always true without fp16.
  bool unscale_gradients(const std::vector<torch::Tensor>& params);

  Precision precision() const { return precision_; }
  double loss_scale() const { return scale_; }
  std::int64_t skipped_steps() const { return skipped_; }
  /// Scaler state for checkpoints: {scale, good steps since the last change, skipped steps}.
  std::vector<double> state() const;
  void load_state(const std::vector<double>& state);

 private:
  Precision precision_;
  torch::Device device_;
  double scale_ = 65536.0;
  std::int64_t good_steps_ = 0;
  std::int64_t skipped_ = 0;
  std::int64_t growth_interval_ = 2000;
};

}  // namespace lmforge
