#pragma once
// A backbone plus a head. Checkpoint keys start with "backbone." and "head.", so either part can be
// loaded on its own into a new model.
#include <torch/nn/module.h>

#include <memory>

#include "lmforge/backbone.h"
#include "lmforge/export.h"
#include "lmforge/head.h"

namespace lmforge {

class LMFORGE_API Model : public torch::nn::Module {
 public:
  Model(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head);
  Backbone& backbone() { return *backbone_; }
  Head& head() { return *head_; }
  std::shared_ptr<Backbone> backbone_ptr() const { return backbone_; }
  std::shared_ptr<Head> head_ptr() const { return head_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<Head> head_;
};

}  // namespace lmforge
