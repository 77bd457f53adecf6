#pragma once
// A task reads data, builds batches, defines the loss and metrics and the training step. The
// trainer owns the loop (optimizer, schedule, clipping, checkpoints); the task owns the data.
//
// Writing one: `using Options = MyOptions;`, a constructor `MyTask(const Options&, const
// TaskContext&)` that reads no data (prepare does; `lmforge validate` and `predict` construct
// tasks without preparing them), and `reg.task<MyTask>("my_task", "one line")`. A task that
// labels texts or tokens should derive from LabelledTask (lmforge/labelled_task.h), which
// implements everything here but reading the data.
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lmforge/data_shard.h"
#include "lmforge/error.h"
#include "lmforge/export.h"
#include "lmforge/model.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

using Metrics = std::map<std::string, double>;

class Metric;
/// A recipe-listed metric (`train: {metrics: [...]}`), by its registered name.
struct NamedMetric {
  std::string name;
  std::shared_ptr<const Metric> metric;
};

struct TaskContext {
  std::string place;      ///< recipe place of the task, for error messages
  std::string stage_dir;  ///< where the task may save artifacts (e.g. its label set)
  std::int64_t batch_size = 32;
  torch::Device device = torch::kCPU;
  std::uint64_t seed = 1;
  /// Data-parallel position: this process trains on its share of every batch (`batch_size` stays
  /// the global batch; see lmforge/data_shard.h). 0 of 1 when the run is one process.
  int rank = 0;
  int world_size = 1;
  /// Extra metrics the recipe lists; labelled tasks add each to their evaluation.
  std::vector<NamedMetric> metrics;
  /// Sums a tensor over the ranks in place; empty when the run is one process. A task evaluates
  /// its share of a split (data_shard.h) and adds up its counts with it, so evaluation is sharded
  /// and every rank still gets the whole split's metrics. Every rank must call it equally often.
  std::function<void(torch::Tensor&)> sum_over_ranks;
};

/// What a task predicts for one text: one label for the whole text (`tokens` empty, one row), or
/// one label per token (`tokens` holds the words, one row each).
struct Prediction {
  std::vector<std::string> tokens;  ///< the words labelled one by one; empty for a per-text label
  std::vector<std::string> labels;  ///< the most probable label of each row
  std::vector<float> scores;        ///< its probability
  torch::Tensor probabilities;      ///< [rows, labels] float on the CPU, in label-id order
};

/// One training step's outcome as the trainer sees it.
struct StepResult {
  torch::Tensor loss;       ///< scalar; the trainer back-propagates it unless `updated`
  std::int64_t tokens = 0;  ///< tokens (or examples) this step consumed, for throughput
  bool updated = false;     ///< the task applied its own fused update (no autograd step)
};

class LMFORGE_API Task {
 public:
  virtual ~Task() = default;

  /// Reads the data. When `fit_vocabulary` the task counts its training text into `tokenizer` and
  /// builds the vocabulary; otherwise the tokenizer already carries one (from `init`).
  virtual void prepare(Tokenizer& tokenizer, bool fit_vocabulary) = 0;
  /// Size of the head's output layer: vocabulary size (LM) or number of labels.
  virtual std::int64_t num_outputs() const = 0;
  /// Batches in one epoch of training data.
  virtual std::int64_t steps_per_epoch() const = 0;
  /// Called before the first step of each epoch (0-based); may reshuffle deterministically.
  virtual void start_epoch(std::int64_t epoch) = 0;
  /// Forward pass and loss for batch `step` of the current epoch.
  virtual StepResult train_step(Model& model, std::int64_t step) = 0;
  /// Metrics on `split` ("valid" or "test"), model in eval mode, no gradients.
  virtual Metrics evaluate(Model& model, const std::string& split) = 0;
  /// Splits this task has data for, in the order they should be reported.
  virtual std::vector<std::string> eval_splits() const = 0;
  /// The metric early stopping and "best" checkpoints watch, and whether higher is better.
  virtual std::string primary_metric() const = 0;
  virtual bool higher_is_better() const = 0;

  /// Mid-epoch state needed for an exact resume (e.g. carried recurrent state).
  virtual void save_state(torch::serialize::OutputArchive&) const {}
  virtual void load_state(torch::serialize::InputArchive&) {}
  /// Artifacts other stages or `lmforge predict` need (e.g. the label set), written to stage_dir.
  virtual void save_artifacts(const std::string& /*dir*/) const {}
  virtual void load_artifacts(const std::string& /*dir*/) {}
  /// Whether the model this task trains predicts the next token (`lmforge generate` samples from
  /// the last stage of a run whose task does).
  virtual bool trains_next_token() const { return false; }
  /// Whether `predict` labels texts (`lmforge predict` picks the last stage of a run that does).
  virtual bool can_predict() const { return false; }
  /// Labels `texts` with a trained `model` (built by `lmforge predict` from the stage directory,
  /// artifacts loaded; not prepared). Runs on the device of the model's parameters.
  virtual std::vector<Prediction> predict(Model& /*model*/, const Tokenizer& /*tokenizer*/,
                                          const std::vector<std::string>& /*texts*/) {
    throw Error("predict", "this task does not label texts");
  }
  /// Human-readable lines printed after training (e.g. "model 2.31 nats/token vs true 2.20").
  virtual std::vector<std::string> summary(const Metrics& /*final_metrics*/) const { return {}; }
};

}  // namespace lmforge
