// A loss that becomes NaN stops the stage with the step, the last finite loss and the newest
// checkpoint named (and no checkpoint of the broken weights), or, under
// `train.nonfinite_loss: skip`, skips the batch before its gradients reach the weights and counts
// it.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "recipe/recipe.h"
#include "recipe/run_recipe.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"
#include "tasks/language_modeling/language_modeling_task.h"
#include "train/checkpoint.h"

namespace fs = std::filesystem;
using lmforge::test::TempDir;

namespace {

/// Language modelling whose loss is NaN at the global steps listed in `poisoned` (1-based).
class PoisonedLoss : public lmforge::LanguageModelingTask {
 public:
  using LanguageModelingTask::LanguageModelingTask;
  static inline std::set<std::int64_t> poisoned;

  lmforge::StepResult train_step(lmforge::Model& model, std::int64_t step) override {
    auto result = LanguageModelingTask::train_step(model, step);
    if (poisoned.count(++calls_)) result.loss = result.loss * std::nan("");
    return result;
  }

 private:
  std::int64_t calls_ = 0;
};

std::string recipe_text(const std::string& mode) {
  return "name: nan\n"
         "seed: 3\n"
         "threads: 1\n"
         "generate_data: {type: toy_grammar, sentences: 300, seed: 2}\n"
         "stages:\n"
         "  - name: lm\n"
         "    task:\n"
         "      type: poisoned_lm\n"
         "      train: ${run}/data/train.txt\n"
         "      valid: ${run}/data/valid.txt\n"
         "      bptt: 10\n"
         "    tokenizer: {type: word}\n"
         "    backbone: {type: lstm, embedding_dim: 8, hidden_size: 8, layers: 1}\n"
         "    head: {type: lm, tie_weights: true}\n"
         "    train: {epochs: 1, batch_size: 4, checkpoint_every: 2, log_every: 1, "
         "nonfinite_loss: " +
         mode + "}\n";
}

lmforge::RecipeSpec recipe_in(const TempDir& dir, const std::string& mode) {
  std::string file = dir.file("nan.yaml", recipe_text(mode));
  lmforge::RecipeContext context;
  context.out_dir = dir.str("runs");
  return lmforge::load_recipe(file, context);
}

void register_task() {
  lmforge::test::load_build_plugins();
  auto& registry = lmforge::Registry::instance();
  if (!registry.contains("task", "poisoned_lm")) {
    registry.task<PoisonedLoss>("poisoned_lm", "test: NaN loss at chosen steps");
  }
}

}  // namespace

TEST_CASE("a NaN loss stops the stage naming the step, last finite loss and checkpoint",
          "[reliability][nonfinite]") {
  register_task();
  TempDir dir("nan_stop");
  PoisonedLoss::poisoned = {5};
  auto recipe = recipe_in(dir, "stop");
  std::string message;
  try {
    lmforge::run_recipe(recipe, {});
  } catch (const lmforge::Error& e) {
    message = e.what();
  }
  std::cout << "  stopped: " << message << "\n";
  CHECK_THAT(message, Catch::Contains("training diverged at step 5"));
  CHECK_THAT(message, Catch::Contains("the loss is NaN"));
  CHECK_THAT(message, Catch::Contains("last finite loss was") && Catch::Contains("at step 4"));
  const fs::path stage = fs::path(recipe.run_dir) / "lm";
  CHECK_THAT(message, Catch::Contains((stage / "checkpoints" / "step-00000004").string()));
  CHECK_THAT(message, Catch::Contains("nonfinite_loss: skip"));
  // Nothing after the bad step was saved.
  CHECK(lmforge::CheckpointStore(stage.string()).checkpoint_names().back() == "step-00000004");
}

TEST_CASE("nonfinite_loss: skip leaves the weights alone and counts the batches",
          "[reliability][nonfinite]") {
  register_task();
  TempDir dir("nan_skip");
  PoisonedLoss::poisoned = {3, 7, 8};
  auto recipe = recipe_in(dir, "skip");
  lmforge::run_recipe(recipe, {});
  const fs::path stage = fs::path(recipe.run_dir) / "lm";
  std::ifstream log(stage / "metrics.jsonl");
  std::string line, train_end;
  bool nan_logged = false;
  while (std::getline(log, line)) {
    if (line.find("train_end") != std::string::npos) train_end = line;
    nan_logged |= line.find("null") != std::string::npos;  // a non-finite number
  }
  std::cout << "  " << train_end << "\n";
  CHECK_THAT(train_end, Catch::Contains("\"skipped_nonfinite\": 3"));
  CHECK_FALSE(nan_logged);
  auto latest = lmforge::CheckpointStore(stage.string()).latest();
  REQUIRE(latest);
  CHECK(lmforge::CheckpointStore::read_meta(*latest).finished);
  PoisonedLoss::poisoned.clear();
}
