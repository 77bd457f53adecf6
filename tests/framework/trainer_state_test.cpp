// TrainerState: what a resume needs beyond weights, optimizer and task, saved and read in one
// place (train/trainer_state.h).
#include "train/trainer_state.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>

namespace {

/// Loads what `out` holds, as a checkpoint file would be read back.
void reopen(torch::serialize::OutputArchive& out, torch::serialize::InputArchive& in) {
  std::ostringstream bytes;
  out.save_to(bytes);
  std::istringstream in_bytes(bytes.str());
  in.load_from(in_bytes);
}

lmforge::TrainerState round_trip(const lmforge::TrainerState& state) {
  torch::serialize::OutputArchive out;
  state.save(out);
  torch::serialize::InputArchive in;
  reopen(out, in);
  lmforge::TrainerState loaded;
  loaded.load(in);
  return loaded;
}

}  // namespace

TEST_CASE("trainer state: every field survives a save and a load", "[trainer][resume]") {
  lmforge::TrainerState state;
  state.metrics_log_size = 17;
  state.best = 3.25;
  state.patience_count = 2;
  state.train_seconds = 12.5;
  state.train_tokens = 1234567890123;  // beyond a double's exact integers would be lost
  state.window_loss = 40.75;
  state.window_steps = 9;
  state.skipped_nonfinite = 3;
  state.loss_scale = {65536.0, 12, 1};
  state.capture_rng();

  const lmforge::TrainerState loaded = round_trip(state);
  CHECK(loaded.metrics_log_size == 17);
  CHECK(loaded.best == 3.25);
  CHECK(loaded.patience_count == 2);
  CHECK(loaded.train_seconds == 12.5);
  CHECK(loaded.train_tokens == 1234567890123);
  CHECK(loaded.window_loss == 40.75);
  CHECK(loaded.window_steps == 9);
  CHECK(loaded.skipped_nonfinite == 3);
  CHECK(loaded.loss_scale == std::vector<double>{65536.0, 12, 1});
  REQUIRE(loaded.rng.defined());
  CHECK(torch::equal(loaded.rng, state.rng));

  // No best metric yet is NaN, and stays NaN (not 0) through a checkpoint.
  lmforge::TrainerState fresh;
  CHECK(std::isnan(round_trip(fresh).best));
}

TEST_CASE("trainer state: the restored generator repeats the draws after the checkpoint",
          "[trainer][resume]") {
  torch::manual_seed(11);
  lmforge::TrainerState state;
  state.capture_rng();
  const torch::Tensor expected = torch::rand({5});
  torch::rand({100});  // the generator moves on
  round_trip(state).restore_rng();
  CHECK(torch::equal(torch::rand({5}), expected));
}

TEST_CASE("trainer state: keys added after the first checkpoints are optional",
          "[trainer][resume]") {
  // A checkpoint written before skipped_nonfinite and loss_scale existed.
  torch::serialize::OutputArchive old;
  old.write("rng", torch::empty({0}, torch::kUInt8));
  for (const char* key : {"metrics_log_size", "patience_count", "train_tokens", "window_steps"}) {
    old.write(key, torch::tensor(static_cast<std::int64_t>(4)));
  }
  for (const char* key : {"best", "train_seconds", "window_loss"}) {
    old.write(key, torch::tensor(1.5, torch::kDouble));
  }
  torch::serialize::InputArchive in;
  reopen(old, in);
  lmforge::TrainerState loaded;
  loaded.skipped_nonfinite = 99;
  loaded.load(in);
  CHECK(loaded.metrics_log_size == 4);
  CHECK(loaded.best == 1.5);
  CHECK(loaded.skipped_nonfinite == 99);  // absent: left as it was
  CHECK(loaded.loss_scale.empty());       // absent: the scaler starts afresh

  // A required key missing is an error, not a silent zero.
  torch::serialize::OutputArchive broken;
  broken.write("rng", torch::empty({0}, torch::kUInt8));
  torch::serialize::InputArchive archive;
  reopen(broken, archive);
  lmforge::TrainerState none;
  CHECK_THROWS(none.load(archive));
}
