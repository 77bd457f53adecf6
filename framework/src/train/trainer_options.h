#pragma once
// How the training loop runs: its length, evaluation and checkpoint cadence, clipping, freezing
// and precision. Plain values, so the trainer needs nothing from recipes: a recipe's `train:`
// section (recipe/recipe.h's TrainSpec) extends this with what is built before the loop starts
// (batch size, optimizer, schedule, discriminative rates, metrics), and anyone driving the
// trainer from code fills this in directly.
#include <cstdint>
#include <string>
#include <vector>

namespace lmforge {

struct TrainerOptions {
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;  ///< 0: no limit
  double clip_grad_norm = 0.0;
  std::int64_t accumulate = 1;  ///< batches whose gradients add up to one optimizer step
  std::int64_t eval_every = 0;
  std::int64_t checkpoint_every = 0;
  std::int64_t log_every = 50;
  std::int64_t keep_checkpoints = 2;
  std::vector<std::string> freeze;  ///< backbone, head, backbone.N
  std::string unfreeze = "none";    ///< none | gradual
  std::int64_t patience = 0;
  std::string precision = "fp32";
  std::string nonfinite_loss = "stop";  ///< stop | skip a batch whose loss is NaN or infinite
};

/// Optimizer updates the loop makes: `accumulate` batches are one update, an epoch's last group
/// may be shorter, and max_steps caps the total. The schedule is built over this count.
std::int64_t total_updates(const TrainerOptions& options, std::int64_t batches_per_epoch);

}  // namespace lmforge
