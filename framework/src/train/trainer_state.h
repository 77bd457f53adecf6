#pragma once
// Everything the training loop carries from one step to the next beyond the weights, the
// optimizer and the task: what an exact resume needs to log, stop early and count as an
// uninterrupted run would. Saved into and read from a checkpoint's trainer.pt in one place, so
// a new field is one line in fields() instead of two hand-kept lists.
#include <torch/serialize/archive.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace lmforge {

struct TrainerState {
  /// Records metrics.jsonl held when the checkpoint was taken: a resume truncates the log to it.
  std::int64_t metrics_log_size = 0;
  /// Early stopping: the best primary metric on "valid" so far and the evaluations since.
  double best = std::numeric_limits<double>::quiet_NaN();
  std::int64_t patience_count = 0;
  double train_seconds = 0;
  std::int64_t train_tokens = 0;
  /// The running loss between log lines: a resume mid-window logs the same average as an
  /// uninterrupted run.
  double window_loss = 0;
  std::int64_t window_steps = 0;
  /// Batches skipped under `nonfinite_loss: skip`.
  std::int64_t skipped_nonfinite = 0;
  /// The mixed-precision loss scaler's state (train/precision.h); empty when the checkpoint
  /// predates mixed precision, and then a resume starts the scale afresh.
  std::vector<double> loss_scale;
  /// The default CPU generator's state at the checkpoint (dropout, sampling, shuffles).
  torch::Tensor rng;

  void save(torch::serialize::OutputArchive& archive) const;
  /// Reads what save() wrote; keys added after format 2's first release are optional.
  void load(torch::serialize::InputArchive& archive);

  /// Takes the default CPU generator's state into `rng`, and puts it back.
  void capture_rng();
  void restore_rng() const;

  /// Starts a new window of the running loss (at an epoch boundary, after a log line).
  void reset_window() {
    window_loss = 0;
    window_steps = 0;
  }
};

}  // namespace lmforge
