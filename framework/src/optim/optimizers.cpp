// Built-in optimizers. Each is a component with an options struct, so a recipe writes
// `optimizer: {type: adamw, lr: 1e-3, weight_decay: 0.01}` and gets typo checking for free.
#include <torch/torch.h>

#include "lmforge/optim.h"
#include "lmforge/registry.h"
#include "optim/builtin_optimizers.h"

namespace lmforge {
namespace {

template <class TorchOptions>
std::vector<torch::optim::OptimizerParamGroup> scaled_groups(const OptimizerContext& context,
                                                             const TorchOptions& base) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (std::size_t i = 0; i < context.groups.size(); ++i) {
    auto options = std::make_unique<TorchOptions>(base);
    double scale = i < context.lr_scale.size() ? context.lr_scale[i] : 1.0;
    options->lr(base.lr() * scale);
    groups.emplace_back(context.groups[i], std::move(options));
  }
  return groups;
}

struct SgdOptions {
  double lr = 0.1;
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  void visit(OptionVisitor& v) {
    v.field("lr", lr, "learning rate").positive();
    v.field("momentum", momentum, "momentum factor").range(0, 1);
    v.field("weight_decay", weight_decay, "L2 penalty").non_negative();
    v.field("nesterov", nesterov, "Nesterov momentum");
  }
};

class SgdOptimizer : public torch::optim::SGD {
 public:
  using Options = SgdOptions;
  SgdOptimizer(const SgdOptions& o, const OptimizerContext& context)
      : torch::optim::SGD(scaled_groups(context, torch::optim::SGDOptions(o.lr)
                                                     .momentum(o.momentum)
                                                     .weight_decay(o.weight_decay)
                                                     .nesterov(o.nesterov)),
                          torch::optim::SGDOptions(o.lr)) {}
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  void visit(OptionVisitor& v) {
    v.field("lr", lr, "learning rate").positive();
    v.field("beta1", beta1, "first-moment decay").range(0, 1);
    v.field("beta2", beta2, "second-moment decay").range(0, 1);
    v.field("eps", eps, "denominator epsilon").positive();
    v.field("weight_decay", weight_decay, "decoupled (adamw) or L2 (adam) weight decay")
        .non_negative();
  }
};
struct AdamWOptions : AdamOptions {
  AdamWOptions() { weight_decay = 0.01; }
};

class AdamOptimizer : public torch::optim::Adam {
 public:
  using Options = AdamOptions;
  AdamOptimizer(const AdamOptions& o, const OptimizerContext& context)
      : torch::optim::Adam(scaled_groups(context, torch::optim::AdamOptions(o.lr)
                                                      .betas({o.beta1, o.beta2})
                                                      .eps(o.eps)
                                                      .weight_decay(o.weight_decay)),
                           torch::optim::AdamOptions(o.lr)) {}
};

class AdamWOptimizer : public torch::optim::AdamW {
 public:
  using Options = AdamWOptions;
  AdamWOptimizer(const AdamWOptions& o, const OptimizerContext& context)
      : torch::optim::AdamW(scaled_groups(context, torch::optim::AdamWOptions(o.lr)
                                                       .betas({o.beta1, o.beta2})
                                                       .eps(o.eps)
                                                       .weight_decay(o.weight_decay)),
                            torch::optim::AdamWOptions(o.lr)) {}
};

}  // namespace

void register_builtin_optimizers(Registry& reg) {
  reg.optimizer<SgdOptimizer>("sgd", "stochastic gradient descent, optional momentum/Nesterov");
  reg.optimizer<AdamOptimizer>("adam", "Adam (weight_decay is an L2 penalty)");
  reg.optimizer<AdamWOptimizer>("adamw", "Adam with decoupled weight decay");
}

}  // namespace lmforge
