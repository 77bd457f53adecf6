#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "adapters/lora.h"
#include "config/yaml_options.h"
#include "distributed/data_parallel.h"
#include "lmforge/error.h"
#include "lmforge/optim.h"
#include "lmforge/registry.h"
#include "train/checkpoint.h"
#include "train/interrupt.h"
#include "train/metrics_log.h"
#include "train/precision.h"
#include "train/progress.h"
#include "train/runtime.h"

namespace lmforge {
namespace fs = std::filesystem;

std::vector<std::vector<torch::Tensor>> parameter_groups(Model& model) {
  auto groups = model.backbone().layer_groups();
  groups.push_back(model.head().parameters());
  return groups;
}

std::vector<bool> trainable_groups(const TrainSpec& train, std::size_t backbone_groups,
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

namespace {
[[noreturn]] void throw_interrupted_at(const std::string& stage_dir) {
  // The CLI turns this into exit code 130, or 143 when SIGTERM asked (interrupt_signal()).
  throw Error(stage_dir,
              std::string(interrupt_signal() == SIGTERM ? "terminated (SIGTERM)" : "interrupted") +
                  "; checkpoint saved, continue with --resume",
              ExitCode::kInterrupted);
}

/// The newest checkpoint a resume could start from, for messages; never throws.
std::string newest_checkpoint_text(const CheckpointStore& store) {
  try {
    auto latest = store.latest();
    if (latest) return "the newest good checkpoint is " + *latest + " (continue with --resume)";
  } catch (const Error&) {
  }
  return "no checkpoint of this stage was saved yet";
}
}  // namespace

Trainer::Trainer(TrainerSetup setup, Model& model, Task& task)
    : setup_(std::move(setup)), model_(model), task_(task) {}

void Trainer::apply_freezing(std::int64_t epoch) {
  auto groups = parameter_groups(model_);
  auto trainable = trainable_groups(*setup_.train, groups.size() - 1, epoch, setup_.place);
  if (std::none_of(trainable.begin(), trainable.end(), [](bool open) { return open; })) {
    throw ConfigError(setup_.place,
                      "train.freeze and train.unfreeze leave nothing to train in epoch " +
                          std::to_string(epoch + 1) +
                          "; keep the head or a backbone.N group trainable");
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (auto& p : groups[g]) {
      // Frozen tensors get no gradient at all, so no optimizer moves them: not the update, not
      // weight decay, not momentum left over from earlier steps.
      p.set_requires_grad(trainable[g]);
      if (!trainable[g] && p.grad().defined()) p.mutable_grad() = torch::Tensor();
    }
  }
  for (auto& p : setup_.frozen) {
    p.set_requires_grad(false);
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
  if (setup_.adapters) {
    // LoRA freezes the whole body; its adapted weights still need dL/dW, which
    // collect_gradients turns into the adapters' gradients.
    for (std::size_t g = 0; g + 1 < groups.size(); ++g) {
      for (auto& p : groups[g]) p.set_requires_grad(false);
    }
    setup_.adapters->set_targets_trainable(true);
  }
}

Metrics Trainer::fit() {
  const TrainSpec& spec = *setup_.train;
  Registry& registry = Registry::instance();
  auto groups = parameter_groups(model_);
  OptimizerContext optimizer_context{
      groups, discriminative_scales(spec.discriminative_lr, groups.size() - 1)};
  if (setup_.adapters) {
    optimizer_context.groups.push_back(setup_.adapters->parameters());
    optimizer_context.lr_scale.push_back(1.0);
  }
  auto optimizer_reader = component_reader(spec.optimizer, "optimizer");
  auto optimizer = registry.make_optimizer(spec.optimizer.type, optimizer_reader, optimizer_context,
                                           component_place(spec.optimizer));
  std::vector<double> base_lr;
  for (auto& group : optimizer->param_groups()) base_lr.push_back(group.options().get_lr());

  // A step is one optimizer update: `accumulate` batches whose gradients add up (each batch's
  // loss divided by the group's size, so K batches of B/K examples update as one batch of B).
  const std::int64_t steps_per_epoch = task_.steps_per_epoch();
  const std::int64_t accumulate = spec.accumulate;
  const std::int64_t updates_per_epoch = (steps_per_epoch + accumulate - 1) / accumulate;
  std::int64_t total_steps = spec.epochs * updates_per_epoch;
  if (spec.max_steps > 0) total_steps = std::min(total_steps, spec.max_steps);
  auto schedule_reader = component_reader(spec.schedule, "schedule");
  auto schedule =
      registry.make_schedule(spec.schedule.type, schedule_reader, ScheduleContext{total_steps},
                             component_place(spec.schedule));

  CheckpointStore store(setup_.stage_dir, spec.keep_checkpoints);
  if (setup_.adapters) store.set_adapters(setup_.adapters, setup_.adapter_base);
  CheckpointMeta position;
  std::int64_t log_offset = 0;
  double best = std::numeric_limits<double>::quiet_NaN();
  std::int64_t evaluations_without_improvement = 0;
  double train_seconds = 0;
  std::int64_t train_tokens = 0;
  // The running loss between log lines is part of the state: a resume mid-window must log the
  // same average as an uninterrupted run.
  double window_loss = 0;
  std::int64_t window_steps = 0;
  // Non-finite losses: the last finite one (for the message when training stops) and how many
  // batches were skipped under `nonfinite_loss: skip`.
  double last_finite_loss = std::numeric_limits<double>::quiet_NaN();
  std::int64_t last_finite_step = 0;
  std::int64_t skipped_nonfinite = 0;
  Metrics final_metrics;

  // Data-parallel ranks: rank 0 writes the run's files, every rank computes its share.
  DataParallel parallel;
  MixedPrecision precision(parse_precision(spec.precision, setup_.place), setup_.device);
  std::optional<std::string> latest;
  if (setup_.resume) {
    // A damaged newest checkpoint (a full disk, a bad copy) costs the steps since the one before,
    // not the run: resume from the newest intact one, saying which files were passed over.
    std::vector<std::string> skipped;
    latest = store.newest_intact(skipped);
    for (const auto& line : skipped) std::cerr << "lmforge: warning: " << line << "\n";
    if (latest && !skipped.empty()) {
      std::cerr << "lmforge: warning: resuming from the older intact checkpoint " << *latest
                << "\n";
    }
  }
  if (latest) {
    position = CheckpointStore::read_meta(*latest);
    if (setup_.adapters) {
      // The body is the base's, already loaded by the stage runner; only A and B were trained.
      torch::serialize::InputArchive archive;
      read_checkpoint_archive(*latest, "adapter.pt", archive);
      setup_.adapters->read(archive, (fs::path(*latest) / "adapter.pt").string());
      setup_.adapters->refresh();
    } else {
      load_part(model_.backbone(), *latest, "backbone");
    }
    load_part(model_.head(), *latest, "head");
  } else if (parallel.writes_files()) {
    fs::remove_all(fs::path(setup_.stage_dir) / "checkpoints");
    fs::remove(fs::path(setup_.stage_dir) / "metrics.jsonl");
  }
  apply_freezing(position.epoch);
  parallel.synchronise(model_);
  std::vector<std::string> rank_task_states;
  auto write_trainer = [&](torch::serialize::OutputArchive& archive) {
    optimizer->save(archive);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    archive.write("rng", generator.get_state());
    archive.write("metrics_log_size", torch::tensor(log_offset));
    archive.write("best", torch::tensor(best, torch::kDouble));
    archive.write("patience_count", torch::tensor(evaluations_without_improvement));
    archive.write("train_seconds", torch::tensor(train_seconds, torch::kDouble));
    archive.write("train_tokens", torch::tensor(train_tokens));
    archive.write("window_loss", torch::tensor(window_loss, torch::kDouble));
    archive.write("window_steps", torch::tensor(window_steps));
    archive.write("loss_scale", torch::tensor(precision.state(), torch::kDouble));
    archive.write("skipped_nonfinite", torch::tensor(skipped_nonfinite));
    task_.save_state(archive);
    // Ranks > 0 carry their own task state (their rows of a recurrent state): rank 0 keeps each
    // one's bytes, gathered just before the save.
    for (std::size_t r = 1; r < rank_task_states.size(); ++r) {
      const std::string& bytes = rank_task_states[r];
      archive.write("task_state_rank_" + std::to_string(r),
                    torch::from_blob(const_cast<char*>(bytes.data()),
                                     {static_cast<std::int64_t>(bytes.size())}, torch::kUInt8)
                        .clone());
    }
  };
  torch::Tensor rng_state;
  torch::Tensor rng_scratch;
  if (latest) {
    load_trainer_archive(*latest, [&](torch::serialize::InputArchive& archive) {
      optimizer->load(archive);
      archive.read("rng", rng_state);
      // A fresh tensor per key: read() into a defined tensor keeps that tensor's dtype and
      // reinterprets the stored bytes, so one reused tensor turns an int64 into a double.
      auto value = [&](const char* key) {
        torch::Tensor t;
        archive.read(key, t);
        return t;
      };
      log_offset = value("metrics_log_size").item<std::int64_t>();
      best = value("best").item<double>();
      evaluations_without_improvement = value("patience_count").item<std::int64_t>();
      train_seconds = value("train_seconds").item<double>();
      train_tokens = value("train_tokens").item<std::int64_t>();
      window_loss = value("window_loss").item<double>();
      window_steps = value("window_steps").item<std::int64_t>();
      // Checkpoints from before mixed precision (or from another precision) have no scaler
      // state or a neutral one: a resume in another precision starts its scale afresh.
      torch::Tensor skipped;
      if (archive.try_read("skipped_nonfinite", skipped)) {
        skipped_nonfinite = skipped.item<std::int64_t>();
      }
      if (archive.try_read("loss_scale", rng_scratch)) {
        auto state = rng_scratch.contiguous();
        precision.load_state(std::vector<double>(state.data_ptr<double>(),
                                                 state.data_ptr<double>() + state.numel()));
      }
    });
  }
  MetricsLog log(parallel.writes_files() ? (fs::path(setup_.stage_dir) / "metrics.jsonl").string()
                                         : "/dev/null",
                 latest && parallel.writes_files() ? log_offset : -1);
  Progress progress(setup_.stage_name, total_steps, spec.log_every);
  if (latest) {
    std::ostringstream s;
    s << setup_.stage_name << ": resuming from " << fs::path(*latest).filename().string()
      << " (epoch " << position.epoch + 1 << ", step " << position.global_step << ")";
    progress.line(s.str());
  }

  std::int64_t global_step = position.global_step;
  auto checkpoint = [&](std::int64_t epoch, std::int64_t step_in_epoch, bool finished) {
    // A checkpoint is only ever a good one: weights that overflowed (a finite loss whose update
    // was not) stop the stage here, and the previous checkpoint stays the newest.
    for (const auto& item : model_.named_parameters()) {
      if (!torch::isfinite(item.value()).all().item<bool>()) {
        throw Error(setup_.place, "training diverged: weight '" + item.key() +
                                      "' is no longer finite after step " +
                                      std::to_string(global_step) + "; " +
                                      newest_checkpoint_text(store) +
                                      ". Lower the learning rate or set train.clip_grad_norm");
      }
    }
    log_offset = log.size();
    CheckpointMeta meta{epoch,    step_in_epoch,        global_step,
                        finished, setup_.backbone_type, setup_.head_type};
    if (parallel.active()) {
      torch::serialize::OutputArchive own;
      task_.save_state(own);
      std::ostringstream bytes;
      own.save_to(bytes);
      rank_task_states = parallel.gather_to_rank0(bytes.str());
    }
    if (parallel.writes_files()) store.save(model_, meta, write_trainer);
    parallel.barrier();
  };
  auto evaluate = [&](const std::string& split, std::int64_t epoch) -> Metrics {
    Metrics metrics = task_.evaluate(model_, split);
    std::map<std::string, LogValue> record{{"stage", setup_.stage_name},
                                           {"split", split},
                                           {"epoch", epoch + 1},
                                           {"step", global_step}};
    std::ostringstream text;
    text << setup_.stage_name << " " << split << " epoch " << epoch + 1 << " step " << global_step
         << ":";
    for (const auto& [name, value] : metrics) {
      record[name] = value;
      final_metrics[split + "." + name] = value;
      text << " " << name << " " << std::setprecision(5) << value;
    }
    log.write(record);
    progress.line(text.str());
    return metrics;
  };
  // Early stopping watches the primary metric on "valid"; returns true when patience ran out.
  auto watch = [&](const Metrics& metrics) {
    auto it = metrics.find(task_.primary_metric());
    if (it == metrics.end()) return false;
    bool better =
        std::isnan(best) || (task_.higher_is_better() ? it->second > best : it->second < best);
    if (better) {
      best = it->second;
      evaluations_without_improvement = 0;
    } else {
      ++evaluations_without_improvement;
    }
    return spec.patience > 0 && evaluations_without_improvement >= spec.patience;
  };
  bool has_valid = false;
  for (const auto& split : task_.eval_splits()) has_valid |= split == "valid";

  std::int64_t valid_step = -1;  // global step of the last validation
  bool stop = position.finished || global_step >= total_steps;
  model_.train();
  bool stop_requested = false;  // Ctrl-C or SIGTERM, agreed between ranks at each step
  for (std::int64_t epoch = position.epoch; !stop && epoch < spec.epochs; ++epoch) {
    apply_freezing(epoch);
    parallel.plan_buckets(model_);
    task_.start_epoch(epoch);
    std::int64_t first_step = epoch == position.epoch ? position.step_in_epoch : 0;
    if (latest && epoch == position.epoch) {
      // The task's state (e.g. a carried recurrent state) belongs to a position inside an
      // epoch; at an epoch boundary start_epoch() above has already set up the new epoch.
      if (position.step_in_epoch > 0) {
        load_trainer_archive(*latest, [&](torch::serialize::InputArchive& a) {
          torch::Tensor own;
          if (parallel.rank() > 0 &&
              a.try_read("task_state_rank_" + std::to_string(parallel.rank()), own)) {
            own = own.contiguous();
            std::istringstream bytes(
                std::string(static_cast<const char*>(own.data_ptr()), own.numel()));
            torch::serialize::InputArchive mine;
            mine.load_from(bytes);
            task_.load_state(mine);
          } else {
            task_.load_state(a);
          }
        });
      }
      auto generator = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(rng_state);
    }
    if (!(latest && epoch == position.epoch && position.step_in_epoch > 0)) {
      window_loss = 0;
      window_steps = 0;
    }
    double factor = 1.0;
    double group_loss = 0;           // sum of the agreed losses of the group's batches
    std::int64_t group_batches = 0;  // batches of the current group seen so far
    bool group_skipped = false;      // every batch of the group was skipped (non-finite)
    for (std::int64_t step = first_step; step < steps_per_epoch && !stop; ++step) {
      auto started = std::chrono::steady_clock::now();
      const std::int64_t group_first = step - step % accumulate;
      const std::int64_t group_size = std::min(accumulate, steps_per_epoch - group_first);
      const bool group_end = step + 1 == group_first + group_size;
      if (step == group_first) {
        factor = schedule->factor(global_step);
        auto& param_groups = optimizer->param_groups();
        for (std::size_t g = 0; g < param_groups.size(); ++g) {
          param_groups[g].options().set_lr(base_lr[g] * factor);
        }
        optimizer->zero_grad();
        group_loss = 0;
        group_batches = 0;
        group_skipped = true;
      }
      StepResult result;
      {
        auto autocast = precision.forward();
        result = task_.train_step(model_, step);
      }
      if (result.updated && accumulate > 1) {
        throw ConfigError(setup_.place + " train.accumulate",
                          "this task applies its own fused update each batch, so its gradients "
                          "cannot accumulate; set accumulate: 1 (or raise batch_size)");
      }
      // A non-finite loss is caught before its gradients reach the weights. Under
      // `nonfinite_loss: skip` every rank skips the batch together (the decision is agreed).
      const double local_loss = result.loss.item<double>();
      bool skip_batch = false;
      if (spec.nonfinite_loss == "skip" && !result.updated) {
        skip_batch = !std::isfinite(parallel.active() ? parallel.agree(local_loss, false).mean_loss
                                                      : local_loss);
      }
      group_skipped = group_skipped && skip_batch;
      if (!result.updated) {
        // A rank whose share of a short last batch is empty contributes zero gradients.
        if (result.loss.requires_grad() && !skip_batch) {
          torch::Tensor loss = result.loss;
          if (group_size > 1) loss = loss / static_cast<double>(group_size);
          precision.scale_loss(loss).backward();
        }
      }
      if (!result.updated && group_end) {
        // Once per update: the accumulated gradients are averaged across ranks and applied.
        parallel.average_gradients();
        if (setup_.adapters) setup_.adapters->collect_gradients();
        // fp16: a step whose gradients overflowed is skipped (the same on every rank: the
        // gradients are already averaged).
        if (!group_skipped && precision.unscale_gradients(model_.parameters())) {
          if (spec.clip_grad_norm > 0) {
            torch::nn::utils::clip_grad_norm_(model_.parameters(), spec.clip_grad_norm);
          }
          optimizer->step();
          if (setup_.adapters) setup_.adapters->refresh();
        }
      }
      auto agreed = parallel.agree(local_loss, interrupt_requested(), result.tokens);
      double loss = agreed.mean_loss;
      stop_requested = stop_requested || agreed.stop;
      if (skip_batch) {
        ++skipped_nonfinite;
      } else if (!std::isfinite(loss)) {
        std::ostringstream s;
        s << "training diverged at step " << global_step + 1 << " (epoch " << epoch + 1
          << "): the loss is "
          << (std::isnan(loss) ? "NaN"
              : loss > 0       ? "+inf"
                               : "-inf")
          << "; ";
        if (std::isnan(last_finite_loss)) {
          s << "no step had a finite loss";
        } else {
          s << "the last finite loss was " << last_finite_loss << " at step " << last_finite_step;
        }
        s << "; " << newest_checkpoint_text(store)
          << ". Lower the learning rate or set train.clip_grad_norm";
        if (!result.updated) s << ", or skip such batches with train.nonfinite_loss: skip";
        throw Error(setup_.place, s.str());
      } else {
        last_finite_loss = loss;
        last_finite_step = global_step + 1;
      }
      train_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      train_tokens += agreed.tokens;
      if (!skip_batch) {
        group_loss += loss;
        ++group_batches;
      }
      if (!group_end) continue;  // what follows happens once per update
      ++global_step;
      if (group_batches > 0) {
        window_loss += group_loss / static_cast<double>(group_batches);
        ++window_steps;
      }
      double tokens_per_second = train_tokens / std::max(1e-9, train_seconds);
      progress.update(global_step, epoch,
                      group_batches > 0 ? group_loss / static_cast<double>(group_batches) : loss,
                      base_lr.back() * factor, tokens_per_second);
      if (global_step % spec.log_every == 0 && window_steps > 0) {
        log.write({{"stage", setup_.stage_name},
                   {"split", "train"},
                   {"epoch", epoch + 1},
                   {"step", global_step},
                   {"loss", window_loss / window_steps},
                   {"lr", base_lr.back() * factor},
                   {"tokens_per_sec", tokens_per_second}});
        window_loss = 0;
        window_steps = 0;
      }
      bool last_step_of_epoch = step + 1 == steps_per_epoch;
      if (spec.eval_every > 0 && global_step % spec.eval_every == 0 && !last_step_of_epoch &&
          has_valid) {
        stop = watch(evaluate("valid", epoch));
        valid_step = global_step;
      }
      if (global_step >= total_steps) stop = true;
      if (!last_step_of_epoch && !stop &&
          ((spec.checkpoint_every > 0 && global_step % spec.checkpoint_every == 0) ||
           stop_requested)) {
        checkpoint(epoch, step + 1, false);
      }
      // Mid-epoch the checkpoint above holds the position. On an epoch's last step (or the
      // run's), stopping here would skip that epoch's validation, so the epoch finishes first.
      if (stop_requested && !last_step_of_epoch && !stop) throw_interrupted_at(setup_.stage_dir);
    }
    // After max_steps the step-wise evaluation may just have run: never count one step twice.
    if (has_valid && valid_step != global_step) stop = watch(evaluate("valid", epoch)) || stop;
    if (!stop && epoch + 1 < spec.epochs) {
      checkpoint(epoch + 1, 0, false);
      stop_requested = parallel.agree(0.0, stop_requested || interrupt_requested()).stop;
      if (stop_requested) throw_interrupted_at(setup_.stage_dir);
    }
  }

  Metrics reported;
  if (!position.finished) {
    for (const auto& split : task_.eval_splits()) {
      if (split != "valid") evaluate(split, spec.epochs - 1);
    }
    log.write({{"stage", setup_.stage_name},
               {"event", "train_end"},
               {"steps", global_step},
               {"train_seconds", train_seconds},
               {"train_tokens", train_tokens},
               {"tokens_per_sec", train_tokens / std::max(1e-9, train_seconds)},
               {"peak_rss_mib", peak_rss_mib()},
               {"skipped_nonfinite", skipped_nonfinite},
               {"world_size", static_cast<std::int64_t>(parallel.world_size())},
               {"communication_seconds", parallel.communication_seconds()}});
    std::ostringstream s;
    s << setup_.stage_name << ": " << global_step << " steps in " << format_duration(train_seconds)
      << ", " << std::fixed << std::setprecision(0) << train_tokens / std::max(1e-9, train_seconds)
      << " tokens/s, peak memory " << peak_rss_mib() << " MiB";
    if (parallel.active()) {
      s << ", " << parallel.world_size() << " processes, " << std::setprecision(1)
        << 100.0 * parallel.communication_seconds() / std::max(1e-9, train_seconds)
        << "% of the step in communication";
    }
    if (skipped_nonfinite > 0) {
      s << ", " << skipped_nonfinite << " batch(es) skipped for a non-finite loss";
    }
    if (precision.precision() != Precision::kFp32) {
      s << ", " << precision_name(precision.precision());
      if (precision.precision() == Precision::kFp16) {
        s << " (" << precision.skipped_steps() << " steps skipped on overflow, loss scale "
          << precision.loss_scale() << ")";
      }
    }
    progress.line(s.str());
    checkpoint(spec.epochs, 0, true);
  }
  return final_metrics;
}

}  // namespace lmforge
