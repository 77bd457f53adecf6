// Gradient accumulation: `accumulate: 2` over batches of 4 updates the weights as batches of 8
// do (the same examples, the loss of each batch halved), and steps count updates, not batches.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "heads/classifier/classifier_head.h"
#include "lmforge/task.h"
#include "recipe/recipe.h"
#include "recipe/stage_training.h"
#include "support/small_lstm.h"
#include "support/temp_dir.h"
#include "train/trainer.h"

namespace {

using lmforge::test::TempDir;

/// Sixteen fixed sequences with fixed labels, served in order `rows` at a time, so that two
/// batches of 4 hold exactly the examples of one batch of 8.
class FixedBatches : public lmforge::Task {
 public:
  explicit FixedBatches(std::int64_t rows) : rows_(rows) {
    auto generator = at::detail::createCPUGenerator(11);
    tokens_ = torch::randint(4, 20, {16, 5}, generator, torch::kLong);
    labels_ = torch::randint(0, 2, {16}, generator, torch::kLong);
  }
  void prepare(lmforge::Tokenizer&, bool) override {}
  std::int64_t num_outputs() const override { return 2; }
  std::int64_t steps_per_epoch() const override { return 16 / rows_; }
  void start_epoch(std::int64_t) override {}
  lmforge::StepResult train_step(lmforge::Model& model, std::int64_t step) override {
    auto tokens = tokens_.narrow(0, step * rows_, rows_);
    auto logits = model.head().forward(model.backbone().forward({tokens, {}, {}}));
    return {model.head().loss(logits, labels_.narrow(0, step * rows_, rows_)), rows_ * 5};
  }
  lmforge::Metrics evaluate(lmforge::Model&, const std::string&) override { return {}; }
  std::vector<std::string> eval_splits() const override { return {}; }
  std::string primary_metric() const override { return "loss"; }
  bool higher_is_better() const override { return false; }

 private:
  std::int64_t rows_;
  torch::Tensor tokens_, labels_;
};

struct Trained {
  std::vector<torch::Tensor> parameters;
  std::int64_t logged_steps = 0;
};

Trained train(std::int64_t rows, std::int64_t accumulate, const TempDir& dir) {
  torch::manual_seed(4);
  auto backbone = lmforge::test::small_lstm(20, 0, 8, 8, false);
  lmforge::ClassifierHeadOptions head_options;
  head_options.pooling = "mean";
  head_options.dropout = 0;
  auto head = std::make_shared<lmforge::ClassifierHead>(head_options,
                                                        lmforge::test::head_context(*backbone, 2));
  lmforge::Model model(backbone, head);
  FixedBatches task(rows);
  lmforge::TrainSpec spec;
  spec.epochs = 2;
  spec.batch_size = rows;
  spec.accumulate = accumulate;
  spec.optimizer = {"sgd", nullptr};
  spec.log_every = 1;
  std::string stage_dir =
      (dir.path / ("rows" + std::to_string(rows) + "_k" + std::to_string(accumulate))).string();
  std::filesystem::create_directories(stage_dir);
  lmforge::TrainerSetup setup{"accumulate", stage_dir, "test", {}, "lstm", "classifier"};
  lmforge::train_stage(setup, spec, model, task);

  Trained out;
  for (const auto& p : model.parameters()) out.parameters.push_back(p.detach().clone());
  std::ifstream log(stage_dir + "/metrics.jsonl");
  for (std::string line; std::getline(log, line);) {
    out.logged_steps += line.find("\"split\": \"train\"") != std::string::npos;
  }
  return out;
}

bool same(const Trained& a, const Trained& b) {
  for (std::size_t i = 0; i < a.parameters.size(); ++i) {
    if (!torch::allclose(a.parameters[i], b.parameters[i], 1e-5, 1e-6)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("accumulating two batches of 4 equals one batch of 8", "[trainer][accumulate]") {
  TempDir dir("accumulate");
  Trained whole = train(8, 1, dir);
  Trained accumulated = train(4, 2, dir);
  Trained small = train(4, 1, dir);
  CHECK(same(whole, accumulated));
  CHECK_FALSE(same(whole, small));  // the comparison can tell batch sizes apart
  // 2 epochs x 2 updates either way; 4 updates per epoch without accumulation.
  CHECK(whole.logged_steps == 4);
  CHECK(accumulated.logged_steps == 4);
  CHECK(small.logged_steps == 8);
}

TEST_CASE("an uneven last group averages only its own batches", "[trainer][accumulate]") {
  TempDir dir("accumulate_uneven");
  // 16 rows in batches of 4 with accumulate 3: groups of 3 and 1 batches per epoch.
  Trained uneven = train(4, 3, dir);
  CHECK(uneven.logged_steps == 4);
  for (const auto& p : uneven.parameters) CHECK(torch::isfinite(p).all().item<bool>());
}
