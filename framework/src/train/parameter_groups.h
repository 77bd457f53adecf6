#pragma once
// The model's parameters as the trainer sees them: layer groups (backbone bottom to top, then the
// head) that freezing, gradual unfreezing and discriminative learning rates act on.
#include <string>
#include <vector>

#include "lmforge/model.h"
#include "lmforge/optim.h"
#include "train/trainer_options.h"

namespace lmforge {

class LoraAdapters;

/// Parameter groups: backbone layer groups bottom to top, then the head.
std::vector<std::vector<torch::Tensor>> parameter_groups(Model& model);

/// What the optimizer trains: parameter_groups() with discriminative learning-rate scales, and
/// LoRA adapters (at the full rate) as one more group when given.
OptimizerContext training_parameter_groups(Model& model, double discriminative_lr,
                                           LoraAdapters* adapters);

/// Whether each group (as in parameter_groups) is trainable at `epoch` under `options`'
/// freeze/unfreeze settings. Throws ConfigError at `place` for a freeze entry naming no group.
std::vector<bool> trainable_groups(const TrainerOptions& options, std::size_t backbone_groups,
                                   std::int64_t epoch, const std::string& place);

/// Learning-rate multipliers per group (discriminative fine-tuning): the head gets 1, the top
/// backbone group 1/factor, the next 1/factor^2...
std::vector<double> discriminative_scales(double factor, std::size_t backbone_groups);

}  // namespace lmforge
