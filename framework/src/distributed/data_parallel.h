#pragma once
// What the trainer does differently when it is one of several data-parallel ranks, in one place,
// so the loop reads the same with one process or many. Every method is a no-op (or the identity)
// when the process runs alone.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lmforge {

class Communicator;
class GradientReducer;
class Model;

class DataParallel {
 public:
  /// Uses the process's communicator (none: a single process).
  DataParallel();
  ~DataParallel();

  bool active() const { return communicator_ != nullptr; }
  int rank() const;
  int world_size() const;
  /// Rank 0 writes the run's files (checkpoints, metrics log); the others only compute.
  bool writes_files() const { return rank() == 0; }

  /// Rank 0's parameters and buffers into every rank; then plans gradient buckets over what
  /// trains now. Call again when freezing changes which parameters train.
  void synchronise(Model& model);
  void plan_buckets(Model& model);
  /// Averages the gradients over ranks (after backward, before clipping and the update).
  void average_gradients();
  /// One small all-reduce per step: the global mean of the step's loss (what one process would
  /// have logged for the whole batch) and whether any rank was asked to stop, so every rank
  /// stops at the same step.
  /// The step's tokens are summed too, so throughput counts the whole batch.
  struct StepAgreement {
    double mean_loss;
    bool stop;
    std::int64_t tokens;
  };
  StepAgreement agree(double local_loss, bool local_stop, std::int64_t local_tokens = 0);
  void barrier();
  /// Rank 0 gets every rank's bytes (index = rank); the others an empty list.
  std::vector<std::string> gather_to_rank0(const std::string& mine);
  /// Wall time spent in gradient averaging and step agreement so far (the communication share
  /// of training), in seconds.
  double communication_seconds() const { return communication_seconds_; }

 private:
  double communication_seconds_ = 0;
  Communicator* communicator_;
  std::unique_ptr<GradientReducer> reducer_;
};

}  // namespace lmforge
