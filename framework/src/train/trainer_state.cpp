#include "train/trainer_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <mutex>

namespace lmforge {

namespace {

/// Whether a key must be present when reading: fields added after checkpoints were first
/// written are optional, and keep their defaults when absent.
enum class Presence { kRequired, kOptional };

/// The one list of scalar fields and their keys in trainer.pt; save() and load() both walk it.
template <class State, class Visit>
void fields(State& state, Visit&& visit) {
  visit("metrics_log_size", state.metrics_log_size, Presence::kRequired);
  visit("best", state.best, Presence::kRequired);
  visit("patience_count", state.patience_count, Presence::kRequired);
  visit("train_seconds", state.train_seconds, Presence::kRequired);
  visit("train_tokens", state.train_tokens, Presence::kRequired);
  visit("window_loss", state.window_loss, Presence::kRequired);
  visit("window_steps", state.window_steps, Presence::kRequired);
  visit("skipped_nonfinite", state.skipped_nonfinite, Presence::kOptional);
}

template <class T>
torch::Tensor scalar_tensor(T value) {
  if constexpr (std::is_floating_point_v<T>) return torch::tensor(value, torch::kDouble);
  return torch::tensor(static_cast<std::int64_t>(value));
}

template <class T>
T scalar_value(const torch::Tensor& t) {
  if constexpr (std::is_floating_point_v<T>) return t.item<double>();
  return t.item<std::int64_t>();
}

}  // namespace

void TrainerState::save(torch::serialize::OutputArchive& archive) const {
  archive.write("rng", rng.defined() ? rng : torch::empty({0}, torch::kUInt8));
  fields(*this, [&](const char* key, const auto& value, Presence) {
    archive.write(key, scalar_tensor(value));
  });
  archive.write("loss_scale", torch::tensor(loss_scale, torch::kDouble));
}

void TrainerState::load(torch::serialize::InputArchive& archive) {
  // A fresh tensor per key: read() into a defined tensor keeps that tensor's dtype and
  // reinterprets the stored bytes, so one reused tensor would turn an int64 into a double.
  archive.read("rng", rng);
  fields(*this, [&](const char* key, auto& value, Presence presence) {
    torch::Tensor t;
    if (presence == Presence::kRequired) {
      archive.read(key, t);
    } else if (!archive.try_read(key, t)) {
      return;
    }
    value = scalar_value<std::decay_t<decltype(value)>>(t);
  });
  torch::Tensor scale;
  loss_scale.clear();
  if (archive.try_read("loss_scale", scale)) {
    scale = scale.to(torch::kDouble).contiguous();
    loss_scale.assign(scale.data_ptr<double>(), scale.data_ptr<double>() + scale.numel());
  }
}

void TrainerState::capture_rng() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  rng = generator.get_state();
}

void TrainerState::restore_rng() const {
  if (!rng.defined() || rng.numel() == 0) return;
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(rng);
}

}  // namespace lmforge
