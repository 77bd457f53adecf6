#pragma once
// Collectives between the workers of one run, on PyTorch's own c10d engine: a TCPStore for the
// rendezvous and ProcessGroupGloo for CPU tensors. The c10d headers stay inside communicator.cpp.
#include <torch/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "distributed/world.h"

namespace lmforge {

/// An all-reduce in flight; wait() returns when the tensors hold the sum over ranks.
class PendingReduce {
 public:
  virtual ~PendingReduce() = default;
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  /// Joins the run's process group: connects to (or, for rank 0 without a launcher, serves) the
  /// store at MASTER_ADDR:MASTER_PORT and waits for every rank. Throws Error naming this rank and
  /// the address when the master cannot be reached or the port is taken.
  static std::unique_ptr<Communicator> connect(const WorldInfo& world,
                                               std::chrono::milliseconds timeout);

  virtual const WorldInfo& world() const = 0;
  int rank() const { return world().rank; }
  int world_size() const { return world().world_size; }

  /// Rank `root`'s values into every rank's tensors, in place.
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root = 0) = 0;
  /// Sum over ranks, in place, started now and finished by the returned handle's wait().
  virtual std::unique_ptr<PendingReduce> all_reduce_sum_async(
      std::vector<torch::Tensor> tensors) = 0;
  /// Sum over ranks, in place.
  void all_reduce_sum(std::vector<torch::Tensor> tensors) {
    all_reduce_sum_async(std::move(tensors))->wait();
  }
  virtual void barrier() = 0;
  /// Every rank's `mine` on rank 0 (index = rank); an empty list on the others. For small
  /// per-rank state (a task's carried recurrent state) that rank 0 checkpoints for everyone.
  virtual std::vector<std::string> gather_to_rank0(const std::string& mine) = 0;
  /// Refuses (Error naming both ranks' values) unless every rank passes the same `value`: catches
  /// workers started with different recipes or overrides before they train different models.
  virtual void require_same(const std::string& what, const std::string& value) = 0;
};

/// The communicator of this process, or nullptr when it runs alone.
Communicator* current_communicator();
/// Installs the process's communicator (the CLI does this once, before running a recipe).
void set_current_communicator(std::unique_ptr<Communicator> communicator);

}  // namespace lmforge
