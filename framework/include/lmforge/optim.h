#pragma once
// Optimizers and learning-rate schedules as registered components.
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

struct OptimizerContext {
  /// Trainable parameters, one group per backbone layer group plus one for the head.
  std::vector<std::vector<torch::Tensor>> groups;
  /// Each group's learning rate is the optimizer's `lr` times this (discriminative fine-tuning).
  std::vector<double> lr_scale;
};

struct ScheduleContext {
  std::int64_t total_steps = 1;
};

/// Multiplies every group's base learning rate by factor(step).
class LMFORGE_API Schedule {
 public:
  virtual ~Schedule() = default;
  /// `step` counts from 0; returns the multiplier for that step.
  virtual double factor(std::int64_t step) const = 0;
};

}  // namespace lmforge
