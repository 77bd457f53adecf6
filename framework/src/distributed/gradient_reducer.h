#pragma once
// Averages gradients over the ranks of a data-parallel run, as PyTorch's DDP does: parameters in
// reverse registration order (roughly the order backward produces their gradients) are packed
// into flat buckets of about 25 MiB (the first one small, so communication starts early), each
// bucket is all-reduced as one tensor and unpacked. Parameters that do not train (frozen) are
// left out, identically on every rank, since the recipe freezes the same groups everywhere.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace lmforge {

class Communicator;

struct BucketLimits {
  std::int64_t first_bytes = 1 << 20;
  std::int64_t bytes = 25 << 20;
};

/// Groups `params` (in the given order) into buckets of one dtype and device within `limits`.
/// Returned as indices into `params`.
std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<torch::Tensor>& params,
                                                   const BucketLimits& limits = {});

class GradientReducer {
 public:
  GradientReducer(Communicator& communicator, std::vector<torch::Tensor> params,
                  BucketLimits limits = {});
  /// Replaces every trainable parameter's gradient by its mean over ranks. A parameter without a
  /// gradient this step counts as zero, so all ranks always send the same buckets.
  void average();
  std::size_t buckets() const { return buckets_.size(); }

 private:
  Communicator& communicator_;
  std::vector<torch::Tensor> params_;
  std::vector<std::vector<std::size_t>> buckets_;
};

/// Copies rank 0's parameters and buffers into every rank (called once before training, so all
/// ranks start from the same weights whatever their seeds did).
void broadcast_module_state(Communicator& communicator, std::vector<torch::Tensor> tensors);

}  // namespace lmforge
