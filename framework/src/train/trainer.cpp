#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>

#include "adapters/lora.h"
#include "distributed/data_parallel.h"
#include "lmforge/error.h"
#include "train/checkpoint.h"
#include "train/interrupt.h"
#include "train/metrics_log.h"
#include "train/precision.h"
#include "train/progress.h"
#include "train/runtime.h"
#include "train/trainer_state.h"

namespace lmforge {
namespace fs = std::filesystem;

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

/// One optimizer update: `accumulate` batches whose gradients add up (each batch's loss divided
/// by the group's size, so K batches of B/K examples update as one batch of B).
struct UpdateGroup {
  std::int64_t size = 1;
  double lr_factor = 1.0;
  double loss_sum = 0;       ///< agreed losses of the batches that counted
  std::int64_t batches = 0;  ///< batches that counted (not skipped as non-finite)
  bool all_skipped = true;   ///< every batch of the group was skipped: no update
  double last_loss = 0;      ///< the latest batch's agreed loss, counted or not
  double mean_loss() const { return batches > 0 ? loss_sum / static_cast<double>(batches) : 0; }
};

}  // namespace

/// One fit(): the loop's working state (the parts a resume needs live in TrainerState) and its
/// steps, so each piece of the loop reads as one function.
class Trainer::Loop {
 public:
  explicit Loop(Trainer& trainer)
      : setup_(trainer.setup_),
        options_(trainer.setup_.options),
        model_(trainer.model_),
        task_(trainer.task_),
        optimizer_(*trainer.optimizer_),
        schedule_(*trainer.schedule_),
        store_(setup_.stage_dir, options_.keep_checkpoints),
        precision_(parse_precision(options_.precision, setup_.place), setup_.device),
        batches_per_epoch_(task_.steps_per_epoch()),
        total_steps_(total_updates(options_, batches_per_epoch_)) {
    // The optimizer's rates as built are the schedule's base rates (captured before a resume
    // loads the optimizer's state).
    for (auto& group : optimizer_.param_groups()) base_lr_.push_back(group.options().get_lr());
    if (setup_.adapters) store_.set_adapters(setup_.adapters, setup_.adapter_base);
    for (const auto& split : task_.eval_splits()) has_valid_ |= split == "valid";
  }

  Metrics run() {
    restore();
    bool stop = position_.finished || global_step_ >= total_steps_;
    model_.train();
    for (std::int64_t epoch = position_.epoch; !stop && epoch < options_.epochs; ++epoch) {
      start_epoch(epoch);
      stop = run_epoch(epoch);
      if (!stop && epoch + 1 < options_.epochs) {
        checkpoint(epoch + 1, 0, false);
        stop_requested_ = parallel_.agree(0.0, stop_requested_ || interrupt_requested()).stop;
        if (stop_requested_) throw_interrupted_at(setup_.stage_dir);
      }
    }
    if (!position_.finished) finish();
    return final_metrics_;
  }

 private:
  bool resumed() const { return latest_.has_value(); }
  bool resumed_mid_epoch(std::int64_t epoch) const {
    return resumed() && epoch == position_.epoch && position_.step_in_epoch > 0;
  }

  /// Picks the checkpoint to resume from (if any) and loads weights and trainer state; a fresh
  /// start clears what an earlier attempt left.
  void restore() {
    if (setup_.resume) {
      // A damaged newest checkpoint (a full disk, a bad copy) costs the steps since the one
      // before, not the run: resume from the newest intact one, naming the files passed over.
      std::vector<std::string> skipped;
      latest_ = store_.newest_intact(skipped);
      for (const auto& line : skipped) std::cerr << "lmforge: warning: " << line << "\n";
      if (latest_ && !skipped.empty()) {
        std::cerr << "lmforge: warning: resuming from the older intact checkpoint " << *latest_
                  << "\n";
      }
    }
    if (latest_) {
      position_ = CheckpointStore::read_meta(*latest_);
      load_weights(*latest_);
    } else if (parallel_.writes_files()) {
      fs::remove_all(fs::path(setup_.stage_dir) / "checkpoints");
      fs::remove(fs::path(setup_.stage_dir) / "metrics.jsonl");
    }
    apply_freezing(position_.epoch);
    parallel_.synchronise(model_);
    if (latest_) {
      load_trainer_archive(*latest_, [&](torch::serialize::InputArchive& archive) {
        optimizer_.load(archive);
        state_.load(archive);
      });
      // Checkpoints from before mixed precision (or from fp32) hold no scaler state: a resume
      // in another precision starts its scale afresh.
      precision_.load_state(state_.loss_scale);
    }
    log_ = std::make_unique<MetricsLog>(
        parallel_.writes_files() ? (fs::path(setup_.stage_dir) / "metrics.jsonl").string()
                                 : "/dev/null",
        latest_ && parallel_.writes_files() ? state_.metrics_log_size : -1);
    progress_ = std::make_unique<Progress>(setup_.stage_name, total_steps_, options_.log_every);
    if (latest_) {
      std::ostringstream s;
      s << setup_.stage_name << ": resuming from " << fs::path(*latest_).filename().string()
        << " (epoch " << position_.epoch + 1 << ", step " << position_.global_step << ")";
      progress_->line(s.str());
    }
    global_step_ = position_.global_step;
  }

  void load_weights(const std::string& checkpoint_dir) {
    if (setup_.adapters) {
      // The body is the base's, already loaded by the stage runner; only A and B were trained.
      torch::serialize::InputArchive archive;
      read_checkpoint_archive(checkpoint_dir, "adapter.pt", archive);
      setup_.adapters->read(archive, (fs::path(checkpoint_dir) / "adapter.pt").string());
      setup_.adapters->refresh();
    } else {
      load_part(model_.backbone(), checkpoint_dir, "backbone");
    }
    load_part(model_.head(), checkpoint_dir, "head");
  }

  void apply_freezing(std::int64_t epoch) {
    auto groups = parameter_groups(model_);
    auto trainable = trainable_groups(options_, groups.size() - 1, epoch, setup_.place);
    if (std::none_of(trainable.begin(), trainable.end(), [](bool open) { return open; })) {
      throw ConfigError(setup_.place,
                        "train.freeze and train.unfreeze leave nothing to train in epoch " +
                            std::to_string(epoch + 1) +
                            "; keep the head or a backbone.N group trainable");
    }
    auto fix = [](torch::Tensor p) {  // a handle: the same tensor
      // Frozen tensors get no gradient at all, so no optimizer moves them: not the update, not
      // weight decay, not momentum left over from earlier steps.
      p.set_requires_grad(false);
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
    };
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (auto& p : groups[g]) {
        if (trainable[g]) {
          p.set_requires_grad(true);
        } else {
          fix(p);
        }
      }
    }
    for (auto& p : setup_.frozen) fix(p);
    if (setup_.adapters) {
      // LoRA freezes the whole body; its adapted weights still need dL/dW, which
      // collect_gradients turns into the adapters' gradients.
      for (std::size_t g = 0; g + 1 < groups.size(); ++g) {
        for (auto& p : groups[g]) p.set_requires_grad(false);
      }
      setup_.adapters->set_targets_trainable(true);
    }
  }

  void start_epoch(std::int64_t epoch) {
    apply_freezing(epoch);
    parallel_.plan_buckets(model_);
    task_.start_epoch(epoch);
    if (resumed() && epoch == position_.epoch) {
      // The task's state (e.g. a carried recurrent state) belongs to a position inside an
      // epoch; at an epoch boundary start_epoch() above has already set up the new epoch.
      if (position_.step_in_epoch > 0) load_task_state();
      state_.restore_rng();
    }
    if (!resumed_mid_epoch(epoch)) state_.reset_window();
  }

  void load_task_state() {
    load_trainer_archive(*latest_, [&](torch::serialize::InputArchive& archive) {
      torch::Tensor own;
      if (parallel_.rank() > 0 &&
          archive.try_read("task_state_rank_" + std::to_string(parallel_.rank()), own)) {
        own = own.contiguous();
        std::istringstream bytes(
            std::string(static_cast<const char*>(own.data_ptr()), own.numel()));
        torch::serialize::InputArchive mine;
        mine.load_from(bytes);
        task_.load_state(mine);
      } else {
        task_.load_state(archive);
      }
    });
  }

  /// Trains one epoch from where it starts (mid-epoch after a resume); returns whether the
  /// stage stops (max_steps, early stopping).
  bool run_epoch(std::int64_t epoch) {
    bool stop = false;
    UpdateGroup group;
    const std::int64_t first = resumed() && epoch == position_.epoch ? position_.step_in_epoch : 0;
    for (std::int64_t step = first; step < batches_per_epoch_ && !stop; ++step) {
      const std::int64_t group_first = step - step % options_.accumulate;
      const std::int64_t group_size =
          std::min(options_.accumulate, batches_per_epoch_ - group_first);
      const bool group_end = step + 1 == group_first + group_size;
      if (step == group_first) group = begin_update(group_size);
      train_batch(epoch, step, group_end, group);
      if (group_end) stop = end_update(epoch, step, group);
    }
    // After max_steps the step-wise evaluation may just have run: never count one step twice.
    if (has_valid_ && valid_step_ != global_step_) stop = watch(evaluate("valid", epoch)) || stop;
    return stop;
  }

  UpdateGroup begin_update(std::int64_t size) {
    UpdateGroup group;
    group.size = size;
    group.lr_factor = schedule_.factor(global_step_);
    auto& param_groups = optimizer_.param_groups();
    for (std::size_t g = 0; g < param_groups.size(); ++g) {
      param_groups[g].options().set_lr(base_lr_[g] * group.lr_factor);
    }
    optimizer_.zero_grad();
    return group;
  }

  /// Forward and backward of one batch; on the group's last batch, the update.
  void train_batch(std::int64_t epoch, std::int64_t step, bool group_end, UpdateGroup& group) {
    auto started = std::chrono::steady_clock::now();
    StepResult result;
    {
      auto autocast = precision_.forward();
      result = task_.train_step(model_, step);
    }
    if (result.updated && options_.accumulate > 1) {
      throw ConfigError(setup_.place + " train.accumulate",
                        "this task applies its own fused update each batch, so its gradients "
                        "cannot accumulate; set accumulate: 1 (or raise batch_size)");
    }
    // A non-finite loss is caught before its gradients reach the weights. Under
    // `nonfinite_loss: skip` every rank skips the batch together (the decision is agreed).
    const double local_loss = result.loss.item<double>();
    bool skip_batch = false;
    if (options_.nonfinite_loss == "skip" && !result.updated) {
      skip_batch = !std::isfinite(parallel_.active() ? parallel_.agree(local_loss, false).mean_loss
                                                     : local_loss);
    }
    group.all_skipped = group.all_skipped && skip_batch;
    // A rank whose share of a short last batch is empty contributes zero gradients.
    if (!result.updated && result.loss.requires_grad() && !skip_batch) {
      torch::Tensor loss = result.loss;
      if (group.size > 1) loss = loss / static_cast<double>(group.size);
      precision_.scale_loss(loss).backward();
    }
    if (!result.updated && group_end) apply_update(group);
    auto agreed = parallel_.agree(local_loss, interrupt_requested(), result.tokens);
    stop_requested_ = stop_requested_ || agreed.stop;
    if (skip_batch) {
      ++state_.skipped_nonfinite;
    } else {
      check_finite(agreed.mean_loss, epoch, result.updated);
      group.loss_sum += agreed.mean_loss;
      ++group.batches;
    }
    group.last_loss = agreed.mean_loss;
    state_.train_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    state_.train_tokens += agreed.tokens;
  }

  /// Once per update: the accumulated gradients are averaged across ranks and applied.
  void apply_update(const UpdateGroup& group) {
    parallel_.average_gradients();
    if (setup_.adapters) setup_.adapters->collect_gradients();
    // fp16: a step whose gradients overflowed is skipped (the same on every rank: the
    // gradients are already averaged).
    if (group.all_skipped || !precision_.unscale_gradients(model_.parameters())) return;
    if (options_.clip_grad_norm > 0) {
      torch::nn::utils::clip_grad_norm_(model_.parameters(), options_.clip_grad_norm);
    }
    optimizer_.step();
    if (setup_.adapters) setup_.adapters->refresh();
  }

  /// Stops the stage at the first non-finite loss, naming the step, the last finite loss and
  /// the checkpoint to continue from.
  void check_finite(double loss, std::int64_t epoch, bool fused_update) {
    if (std::isfinite(loss)) {
      last_finite_loss_ = loss;
      last_finite_step_ = global_step_ + 1;
      return;
    }
    std::ostringstream s;
    s << "training diverged at step " << global_step_ + 1 << " (epoch " << epoch + 1
      << "): the loss is "
      << (std::isnan(loss) ? "NaN"
          : loss > 0       ? "+inf"
                           : "-inf")
      << "; ";
    if (std::isnan(last_finite_loss_)) {
      s << "no step had a finite loss";
    } else {
      s << "the last finite loss was " << last_finite_loss_ << " at step " << last_finite_step_;
    }
    s << "; " << newest_checkpoint_text(store_)
      << ". Lower the learning rate or set train.clip_grad_norm";
    if (!fused_update) s << ", or skip such batches with train.nonfinite_loss: skip";
    throw Error(setup_.place, s.str());
  }

  /// After an update: progress, the log line, step-wise evaluation and checkpoint, and an
  /// interrupt's checkpoint-and-exit. Returns whether the stage stops.
  bool end_update(std::int64_t epoch, std::int64_t step, const UpdateGroup& group) {
    ++global_step_;
    if (group.batches > 0) {
      state_.window_loss += group.mean_loss();
      ++state_.window_steps;
    }
    const double lr = base_lr_.back() * group.lr_factor;
    const double tokens_per_second = state_.train_tokens / std::max(1e-9, state_.train_seconds);
    progress_->update(global_step_, epoch, group.batches > 0 ? group.mean_loss() : group.last_loss,
                      lr, tokens_per_second);
    if (global_step_ % options_.log_every == 0 && state_.window_steps > 0) {
      log_->write({{"stage", setup_.stage_name},
                   {"split", "train"},
                   {"epoch", epoch + 1},
                   {"step", global_step_},
                   {"loss", state_.window_loss / state_.window_steps},
                   {"lr", lr},
                   {"tokens_per_sec", tokens_per_second}});
      state_.reset_window();
    }
    const bool last_step_of_epoch = step + 1 == batches_per_epoch_;
    bool stop = false;
    if (options_.eval_every > 0 && global_step_ % options_.eval_every == 0 && !last_step_of_epoch &&
        has_valid_) {
      stop = watch(evaluate("valid", epoch));
      valid_step_ = global_step_;
    }
    if (global_step_ >= total_steps_) stop = true;
    if (!last_step_of_epoch && !stop &&
        ((options_.checkpoint_every > 0 && global_step_ % options_.checkpoint_every == 0) ||
         stop_requested_)) {
      checkpoint(epoch, step + 1, false);
    }
    // Mid-epoch the checkpoint above holds the position. On an epoch's last step (or the
    // run's), stopping here would skip that epoch's validation, so the epoch finishes first.
    if (stop_requested_ && !last_step_of_epoch && !stop) throw_interrupted_at(setup_.stage_dir);
    return stop;
  }

  Metrics evaluate(const std::string& split, std::int64_t epoch) {
    Metrics metrics = task_.evaluate(model_, split);
    std::map<std::string, LogValue> record{{"stage", setup_.stage_name},
                                           {"split", split},
                                           {"epoch", epoch + 1},
                                           {"step", global_step_}};
    std::ostringstream text;
    text << setup_.stage_name << " " << split << " epoch " << epoch + 1 << " step " << global_step_
         << ":";
    for (const auto& [name, value] : metrics) {
      record[name] = value;
      final_metrics_[split + "." + name] = value;
      text << " " << name << " " << std::setprecision(5) << value;
    }
    log_->write(record);
    progress_->line(text.str());
    return metrics;
  }

  /// Early stopping watches the primary metric on "valid"; returns true when patience ran out.
  bool watch(const Metrics& metrics) {
    auto it = metrics.find(task_.primary_metric());
    if (it == metrics.end()) return false;
    const double best = state_.best;
    const bool better =
        std::isnan(best) || (task_.higher_is_better() ? it->second > best : it->second < best);
    if (better) {
      state_.best = it->second;
      state_.patience_count = 0;
    } else {
      ++state_.patience_count;
    }
    return options_.patience > 0 && state_.patience_count >= options_.patience;
  }

  void checkpoint(std::int64_t epoch, std::int64_t step_in_epoch, bool finished) {
    // A checkpoint is only ever a good one: weights that overflowed (a finite loss whose update
    // was not) stop the stage here, and the previous checkpoint stays the newest.
    for (const auto& item : model_.named_parameters()) {
      if (!torch::isfinite(item.value()).all().item<bool>()) {
        throw Error(setup_.place, "training diverged: weight '" + item.key() +
                                      "' is no longer finite after step " +
                                      std::to_string(global_step_) + "; " +
                                      newest_checkpoint_text(store_) +
                                      ". Lower the learning rate or set train.clip_grad_norm");
      }
    }
    state_.metrics_log_size = log_->size();
    CheckpointMeta meta{epoch,    step_in_epoch,        global_step_,
                        finished, setup_.backbone_type, setup_.head_type};
    if (parallel_.active()) {
      torch::serialize::OutputArchive own;
      task_.save_state(own);
      std::ostringstream bytes;
      own.save_to(bytes);
      rank_task_states_ = parallel_.gather_to_rank0(bytes.str());
    }
    if (parallel_.writes_files()) {
      store_.save(model_, meta,
                  [&](torch::serialize::OutputArchive& archive) { write_trainer(archive); });
    }
    parallel_.barrier();
  }

  void write_trainer(torch::serialize::OutputArchive& archive) {
    optimizer_.save(archive);
    state_.capture_rng();
    state_.loss_scale = precision_.state();
    state_.save(archive);
    task_.save_state(archive);
    // Ranks > 0 carry their own task state (their rows of a recurrent state): rank 0 keeps each
    // one's bytes, gathered just before the save.
    for (std::size_t r = 1; r < rank_task_states_.size(); ++r) {
      const std::string& bytes = rank_task_states_[r];
      archive.write("task_state_rank_" + std::to_string(r),
                    torch::from_blob(const_cast<char*>(bytes.data()),
                                     {static_cast<std::int64_t>(bytes.size())}, torch::kUInt8)
                        .clone());
    }
  }

  /// The splits other than valid, the train_end record, the summary line, the final checkpoint.
  void finish() {
    for (const auto& split : task_.eval_splits()) {
      if (split != "valid") evaluate(split, options_.epochs - 1);
    }
    const double seconds = std::max(1e-9, state_.train_seconds);
    log_->write({{"stage", setup_.stage_name},
                 {"event", "train_end"},
                 {"steps", global_step_},
                 {"train_seconds", state_.train_seconds},
                 {"train_tokens", state_.train_tokens},
                 {"tokens_per_sec", state_.train_tokens / seconds},
                 {"peak_rss_mib", peak_rss_mib()},
                 {"skipped_nonfinite", state_.skipped_nonfinite},
                 {"world_size", static_cast<std::int64_t>(parallel_.world_size())},
                 {"communication_seconds", parallel_.communication_seconds()}});
    std::ostringstream s;
    s << setup_.stage_name << ": " << global_step_ << " steps in "
      << format_duration(state_.train_seconds) << ", " << std::fixed << std::setprecision(0)
      << state_.train_tokens / seconds << " tokens/s, peak memory " << peak_rss_mib() << " MiB";
    if (parallel_.active()) {
      s << ", " << parallel_.world_size() << " processes, " << std::setprecision(1)
        << 100.0 * parallel_.communication_seconds() / seconds << "% of the step in communication";
    }
    if (state_.skipped_nonfinite > 0) {
      s << ", " << state_.skipped_nonfinite << " batch(es) skipped for a non-finite loss";
    }
    if (precision_.precision() != Precision::kFp32) {
      s << ", " << precision_name(precision_.precision());
      if (precision_.precision() == Precision::kFp16) {
        s << " (" << precision_.skipped_steps() << " steps skipped on overflow, loss scale "
          << precision_.loss_scale() << ")";
      }
    }
    progress_->line(s.str());
    checkpoint(options_.epochs, 0, true);
  }

  const TrainerSetup& setup_;
  const TrainerOptions& options_;
  Model& model_;
  Task& task_;
  torch::optim::Optimizer& optimizer_;
  Schedule& schedule_;
  CheckpointStore store_;
  // Data-parallel ranks: rank 0 writes the run's files, every rank computes its share.
  DataParallel parallel_;
  MixedPrecision precision_;
  const std::int64_t batches_per_epoch_;
  const std::int64_t total_steps_;
  std::vector<double> base_lr_;
  bool has_valid_ = false;

  TrainerState state_;
  std::optional<std::string> latest_;  ///< the checkpoint resumed from
  CheckpointMeta position_;            ///< where it left off (zero for a fresh start)
  std::unique_ptr<MetricsLog> log_;
  std::unique_ptr<Progress> progress_;
  std::int64_t global_step_ = 0;
  std::int64_t valid_step_ = -1;  ///< global step of the last validation
  bool stop_requested_ = false;   ///< Ctrl-C or SIGTERM, agreed between ranks at each step
  // The last finite loss, for the message when training diverges (not kept across a resume).
  double last_finite_loss_ = std::numeric_limits<double>::quiet_NaN();
  std::int64_t last_finite_step_ = 0;
  std::vector<std::string> rank_task_states_;
  Metrics final_metrics_;
};

Trainer::Trainer(TrainerSetup setup, Model& model, Task& task,
                 std::shared_ptr<torch::optim::Optimizer> optimizer,
                 std::shared_ptr<Schedule> schedule)
    : setup_(std::move(setup)),
      model_(model),
      task_(task),
      optimizer_(std::move(optimizer)),
      schedule_(std::move(schedule)) {}

Trainer::~Trainer() = default;

Metrics Trainer::fit() { return Loop(*this).run(); }

}  // namespace lmforge
