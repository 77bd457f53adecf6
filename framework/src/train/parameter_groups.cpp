#include "train/parameter_groups.h"

#include <algorithm>
#include <cmath>

#include "adapters/lora.h"
#include "lmforge/error.h"

namespace lmforge {

std::vector<std::vector<torch::Tensor>> parameter_groups(Model& model) {
  auto groups = model.backbone().layer_groups();
  groups.push_back(model.head().parameters());
  return groups;
}

OptimizerContext training_parameter_groups(Model& model, double discriminative_lr,
                                           LoraAdapters* adapters) {
  auto groups = parameter_groups(model);
  OptimizerContext context{groups, discriminative_scales(discriminative_lr, groups.size() - 1)};
  if (adapters) {
    context.groups.push_back(adapters->parameters());
    context.lr_scale.push_back(1.0);
  }
  return context;
}

std::vector<bool> trainable_groups(const TrainerOptions& train, std::size_t backbone_groups,
                                   std::int64_t epoch, const std::string& place) {
  std::size_t total = backbone_groups + 1;  // + head
  std::vector<bool> trainable(total, true);
  for (const auto& entry : train.freeze) {
    if (entry == "backbone") {
      for (std::size_t i = 0; i < backbone_groups; ++i) trainable[i] = false;
    } else if (entry == "head") {
      trainable[backbone_groups] = false;
    } else if (entry.rfind("backbone.", 0) == 0) {
      std::size_t index = 0;
      try {
        index = std::stoul(entry.substr(9));
      } catch (const std::exception&) {
        index = backbone_groups;
      }
      if (index >= backbone_groups) {
        throw ConfigError(
            place, "train.freeze: '" + entry +
                       "' names no layer group; the backbone has groups backbone.0 to backbone." +
                       std::to_string(backbone_groups - 1));
      }
      trainable[index] = false;
    } else {
      throw ConfigError(
          place, "train.freeze: unknown part '" + entry + "'; use backbone, head or backbone.N");
    }
  }
  if (train.unfreeze == "gradual") {
    // Epoch 0 trains the head only; each later epoch opens one more group, top first.
    for (std::size_t i = 0; i < backbone_groups; ++i) {
      std::size_t from_top = backbone_groups - 1 - i;
      if (static_cast<std::int64_t>(from_top) >= epoch) trainable[i] = false;
    }
  }
  return trainable;
}

std::vector<double> discriminative_scales(double factor, std::size_t backbone_groups) {
  std::vector<double> scales(backbone_groups + 1, 1.0);
  for (std::size_t i = 0; i < backbone_groups; ++i) {
    scales[i] = std::pow(factor, -static_cast<double>(backbone_groups - i));
  }
  return scales;
}

}  // namespace lmforge
