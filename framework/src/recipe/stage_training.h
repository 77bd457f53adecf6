#pragma once
// From a recipe's `train:` section to a running trainer: builds the optimizer (over the model's
// parameter groups, with discriminative rates and LoRA adapters) and the schedule (over the
// stage's updates) that the section names, and hands them to the trainer.
#include <memory>

#include "lmforge/optim.h"
#include "recipe/recipe.h"
#include "train/trainer.h"

namespace lmforge {

std::shared_ptr<torch::optim::Optimizer> build_optimizer(const TrainSpec& train, Model& model,
                                                         LoraAdapters* adapters);

std::shared_ptr<Schedule> build_schedule(const TrainSpec& train, std::int64_t total_steps);

/// Trains the stage `setup` describes with `train`'s settings (setup.options is set from it);
/// returns the final metrics.
Metrics train_stage(TrainerSetup setup, const TrainSpec& train, Model& model, Task& task);

}  // namespace lmforge
