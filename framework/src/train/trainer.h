#pragma once
// The training loop shared by every task: optimizer and schedule, freezing and discriminative
// rates, clipping, periodic evaluation, metrics log, progress, checkpoints and exact resume.
#include <string>

#include "lmforge/model.h"
#include "lmforge/task.h"
#include "recipe/recipe.h"

namespace lmforge {

class LoraAdapters;

struct TrainerSetup {
  std::string stage_name;
  std::string stage_dir;
  std::string place;  ///< recipe place of the stage
  const TrainSpec* train = nullptr;
  std::string backbone_type;
  std::string head_type;
  torch::Device device = torch::kCPU;
  bool resume = false;
  /// LoRA: the backbone is frozen, these adapters (registered in the model) and the head train,
  /// and checkpoints hold the adapters instead of the backbone, which is `adapter_base`'s.
  LoraAdapters* adapters = nullptr;
  std::string adapter_base;
  /// Tensors kept fixed whatever train.freeze says (init.freeze: the pre-trained embedding).
  std::vector<torch::Tensor> frozen;
};

class Trainer {
 public:
  Trainer(TrainerSetup setup, Model& model, Task& task);
  /// Trains (or resumes) to the end; returns the final metrics ("valid.ppl", "test.accuracy"...).
  /// Throws Error with ExitCode::kInterrupted after checkpointing when interrupted.
  Metrics fit();

 private:
  struct Groups;
  void apply_freezing(std::int64_t epoch);

  TrainerSetup setup_;
  Model& model_;
  Task& task_;
};

/// Parameter groups: backbone layer groups bottom to top, then the head.
std::vector<std::vector<torch::Tensor>> parameter_groups(Model& model);

/// Whether each group (as in parameter_groups) is trainable at `epoch` under `train`'s
/// freeze/unfreeze settings. Throws ConfigError at `place` for a freeze entry naming no group.
std::vector<bool> trainable_groups(const TrainSpec& train, std::size_t backbone_groups,
                                   std::int64_t epoch, const std::string& place);

/// Learning-rate multipliers per group (discriminative fine-tuning): the head gets 1, the top
/// backbone group 1/factor, the next 1/factor^2...
std::vector<double> discriminative_scales(double factor, std::size_t backbone_groups);

}  // namespace lmforge
