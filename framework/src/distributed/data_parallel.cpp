#include "distributed/data_parallel.h"

#include <torch/torch.h>

#include <chrono>

#include "distributed/communicator.h"
#include "distributed/gradient_reducer.h"
#include "lmforge/model.h"

namespace lmforge {

DataParallel::DataParallel() : communicator_(current_communicator()) {}
DataParallel::~DataParallel() = default;

int DataParallel::rank() const { return communicator_ ? communicator_->rank() : 0; }
int DataParallel::world_size() const { return communicator_ ? communicator_->world_size() : 1; }

void DataParallel::synchronise(Model& model) {
  if (!communicator_) return;
  std::vector<torch::Tensor> state = model.parameters();
  for (auto& buffer : model.buffers()) state.push_back(buffer);
  broadcast_module_state(*communicator_, state);
  plan_buckets(model);
}

void DataParallel::plan_buckets(Model& model) {
  if (!communicator_) return;
  reducer_ = std::make_unique<GradientReducer>(*communicator_, model.parameters());
}

namespace {
/// Adds the scope's wall time to `total`.
class Stopwatch {
 public:
  explicit Stopwatch(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};
}  // namespace

void DataParallel::average_gradients() {
  if (!reducer_) return;
  Stopwatch watch(communication_seconds_);
  reducer_->average();
}

DataParallel::StepAgreement DataParallel::agree(double local_loss, bool local_stop,
                                                std::int64_t local_tokens) {
  if (!communicator_) return {local_loss, local_stop, local_tokens};
  Stopwatch watch(communication_seconds_);
  // Doubles hold token counts exactly up to 2^53.
  torch::Tensor values =
      torch::tensor({local_loss, local_stop ? 1.0 : 0.0, static_cast<double>(local_tokens)},
                    torch::TensorOptions(torch::kDouble));
  communicator_->all_reduce_sum({values});
  auto sums = values.accessor<double, 1>();
  return {sums[0] / communicator_->world_size(), sums[1] > 0, static_cast<std::int64_t>(sums[2])};
}

std::vector<std::string> DataParallel::gather_to_rank0(const std::string& mine) {
  if (!communicator_) return {mine};
  return communicator_->gather_to_rank0(mine);
}

void DataParallel::barrier() {
  if (communicator_) communicator_->barrier();
}

}  // namespace lmforge
