#pragma once
// The training loop shared by every task: learning-rate schedule, freezing, gradient
// accumulation, clipping, mixed precision, periodic evaluation, early stopping, metrics log,
// progress, checkpoints and exact resume. It takes the model, task, optimizer and schedule
// already built (recipe/stage_training.h builds them from a recipe's `train:` section) and
// knows nothing of recipes.
#include <memory>
#include <string>
#include <vector>

#include "lmforge/model.h"
#include "lmforge/task.h"
#include "train/parameter_groups.h"
#include "train/trainer_options.h"

namespace lmforge {

class LoraAdapters;

struct TrainerSetup {
  std::string stage_name;
  std::string stage_dir;
  std::string place;  ///< recipe place of the stage, for messages
  TrainerOptions options;
  std::string backbone_type;
  std::string head_type;
  torch::Device device = torch::kCPU;
  bool resume = false;
  /// LoRA: the backbone is frozen, these adapters (registered in the model) and the head train,
  /// and checkpoints hold the adapters instead of the backbone, which is `adapter_base`'s.
  LoraAdapters* adapters = nullptr;
  std::string adapter_base;
  /// Tensors kept fixed whatever options.freeze says (init.freeze: the pre-trained embedding).
  std::vector<torch::Tensor> frozen;
};

class Trainer {
 public:
  /// `optimizer` holds the parameter groups of training_parameter_groups() (their learning
  /// rates are the schedule's base rates); `schedule` spans total_updates() steps.
  Trainer(TrainerSetup setup, Model& model, Task& task,
          std::shared_ptr<torch::optim::Optimizer> optimizer, std::shared_ptr<Schedule> schedule);
  ~Trainer();
  /// Trains (or resumes) to the end; returns the final metrics ("valid.ppl", "test.accuracy"...).
  /// Throws Error with ExitCode::kInterrupted after checkpointing when interrupted.
  Metrics fit();

 private:
  class Loop;  // one fit(): its state and steps (trainer.cpp)

  TrainerSetup setup_;
  Model& model_;
  Task& task_;
  std::shared_ptr<torch::optim::Optimizer> optimizer_;
  std::shared_ptr<Schedule> schedule_;
};

}  // namespace lmforge
