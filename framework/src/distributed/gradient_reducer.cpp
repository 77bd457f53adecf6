#include "distributed/gradient_reducer.h"

#include <torch/torch.h>

#include <memory>

#include "distributed/communicator.h"

namespace lmforge {

std::vector<std::vector<std::size_t>> plan_buckets(const std::vector<torch::Tensor>& params,
                                                   const BucketLimits& limits) {
  std::vector<std::vector<std::size_t>> buckets;
  std::int64_t filled = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    std::int64_t bytes = p.numel() * static_cast<std::int64_t>(p.element_size());
    // The bucket being filled is the first one while only one exists.
    std::int64_t limit = buckets.size() == 1 ? limits.first_bytes : limits.bytes;
    bool fits = !buckets.empty() && filled + bytes <= limit &&
                params[buckets.back().front()].scalar_type() == p.scalar_type() &&
                params[buckets.back().front()].device() == p.device();
    if (!fits) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(i);
    filled += bytes;
  }
  return buckets;
}

GradientReducer::GradientReducer(Communicator& communicator, std::vector<torch::Tensor> params,
                                 BucketLimits limits)
    : communicator_(communicator) {
  // Reverse registration order: the output layer's gradients are ready first in backward.
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->requires_grad()) params_.push_back(*it);
  }
  buckets_ = plan_buckets(params_, limits);
}

void GradientReducer::average() {
  if (communicator_.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  const double scale = 1.0 / communicator_.world_size();
  std::vector<torch::Tensor> flats;
  std::vector<std::unique_ptr<PendingReduce>> pending;
  flats.reserve(buckets_.size());
  // Every bucket is started before any is waited for, so gloo sends one while the next is packed.
  for (const auto& bucket : buckets_) {
    std::vector<torch::Tensor> grads;
    grads.reserve(bucket.size());
    for (std::size_t i : bucket) {
      torch::Tensor& param = params_[i];
      if (!param.grad().defined()) param.mutable_grad() = torch::zeros_like(param);
      grads.push_back(param.grad().reshape({-1}));
    }
    flats.push_back(torch::cat(grads));
    pending.push_back(communicator_.all_reduce_sum_async({flats.back()}));
  }
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    pending[b]->wait();
    flats[b].mul_(scale);
    std::int64_t offset = 0;
    for (std::size_t i : buckets_[b]) {
      torch::Tensor grad = params_[i].grad();
      std::int64_t n = grad.numel();
      grad.copy_(flats[b].narrow(0, offset, n).view_as(grad));
      offset += n;
    }
  }
}

void broadcast_module_state(Communicator& communicator, std::vector<torch::Tensor> tensors) {
  if (communicator.world_size() == 1 || tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> data;
  data.reserve(tensors.size());
  for (auto& t : tensors) data.push_back(t.detach());
  communicator.broadcast(data, 0);
}

}  // namespace lmforge
