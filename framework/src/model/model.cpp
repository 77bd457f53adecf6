#include "lmforge/model.h"

#include <torch/torch.h>

namespace lmforge {

State Backbone::detach(const State& state) {
  State out;
  out.reserve(state.size());
  for (const auto& t : state) out.push_back(t.defined() ? t.detach() : t);
  return out;
}

torch::Tensor Head::loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

Model::Model(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head)
    : backbone_(register_module("backbone", std::move(backbone))),
      head_(register_module("head", std::move(head))) {}

}  // namespace lmforge
