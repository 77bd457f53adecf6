#include "recipe/stage_training.h"

#include "config/yaml_options.h"
#include "lmforge/registry.h"

namespace lmforge {

std::shared_ptr<torch::optim::Optimizer> build_optimizer(const TrainSpec& train, Model& model,
                                                         LoraAdapters* adapters) {
  auto reader = component_reader(train.optimizer, "optimizer");
  return Registry::instance().make_optimizer(
      train.optimizer.type, reader,
      training_parameter_groups(model, train.discriminative_lr, adapters),
      component_place(train.optimizer));
}

std::shared_ptr<Schedule> build_schedule(const TrainSpec& train, std::int64_t total_steps) {
  auto reader = component_reader(train.schedule, "schedule");
  return Registry::instance().make_schedule(
      train.schedule.type, reader, ScheduleContext{total_steps}, component_place(train.schedule));
}

Metrics train_stage(TrainerSetup setup, const TrainSpec& train, Model& model, Task& task) {
  setup.options = train;  // the loop's part of the section
  auto optimizer = build_optimizer(train, model, setup.adapters);
  auto schedule = build_schedule(train, total_updates(train, task.steps_per_epoch()));
  return Trainer(std::move(setup), model, task, std::move(optimizer), std::move(schedule)).fit();
}

}  // namespace lmforge
