// The trainer's stopping points: Ctrl-C on the last step of an epoch still validates that epoch
// before it checkpoints, and a resumed run ends exactly like an uninterrupted one.
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
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
#include "train/interrupt.h"

namespace fs = std::filesystem;

namespace {

/// Language modelling that raises SIGINT itself after the last step of its first epoch, the
/// moment a user's Ctrl-C is easiest to mishandle (the epoch's validation is still to come).
class InterruptAtEpochEnd : public lmforge::LanguageModelingTask {
 public:
  using LanguageModelingTask::LanguageModelingTask;
  static inline bool armed = false;

  void start_epoch(std::int64_t epoch) override {
    epoch_ = epoch;
    LanguageModelingTask::start_epoch(epoch);
  }
  lmforge::StepResult train_step(lmforge::Model& model, std::int64_t step) override {
    auto result = LanguageModelingTask::train_step(model, step);
    if (armed && epoch_ == 0 && step + 1 == steps_per_epoch()) std::raise(SIGINT);
    return result;
  }

 private:
  std::int64_t epoch_ = 0;
};

using lmforge::test::TempDir;

constexpr const char* kRecipe = R"(name: interrupt
seed: 3
generate_data: {type: toy_grammar, sentences: 400, seed: 2}
stages:
  - name: lm
    task:
      type: interrupting_lm
      train: ${run}/data/train.txt
      valid: ${run}/data/valid.txt
      test: ${run}/data/test.txt
      bptt: 10
    tokenizer: {type: word}
    backbone: {type: lstm, embedding_dim: 8, hidden_size: 8, layers: 1, dropout: 0.1}
    head: {type: lm, tie_weights: true}
    train: {epochs: 2, batch_size: 4, optimizer: {type: adam, lr: 0.01}, log_every: 5}
)";

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The metrics log without the timing fields, which differ between any two runs.
std::string comparable_metrics(const fs::path& path) {
  std::istringstream lines(read(path));
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"split\": \"valid\"") != std::string::npos ||
        line.find("\"split\": \"test\"") != std::string::npos ||
        line.find("\"split\":\"valid\"") != std::string::npos ||
        line.find("\"split\":\"test\"") != std::string::npos) {
      out += line + "\n";
    }
  }
  return out;
}

lmforge::RecipeSpec recipe_in(const fs::path& dir) {
  std::ofstream(dir / "recipe.yaml") << kRecipe;
  lmforge::RecipeContext context;
  context.out_dir = (dir / "runs").string();
  return lmforge::load_recipe((dir / "recipe.yaml").string(), context);
}

}  // namespace

TEST_CASE("Ctrl-C on an epoch's last step validates the epoch, and --resume ends like a full run",
          "[trainer][interrupt]") {
  auto& registry = lmforge::Registry::instance();
  lmforge::test::load_build_plugins();
  if (!registry.contains("task", "interrupting_lm")) {
    registry.task<InterruptAtEpochEnd>("interrupting_lm", "test: SIGINT at the end of epoch 1");
  }
  lmforge::install_interrupt_handlers();

  {
    // --stages names stages that exist; a typo is one error naming the option and the fix.
    TempDir typo;
    lmforge::RunOptions only;
    only.only_stages = {"lmm"};
    try {
      lmforge::run_recipe(recipe_in(typo.path), only);
      FAIL("--stages lmm ran");
    } catch (const lmforge::ConfigError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("--stages"));
      CHECK_THAT(e.what(), Catch::Contains("did you mean 'lm'?"));
    }
  }

  TempDir uninterrupted;
  InterruptAtEpochEnd::armed = false;
  lmforge::run_recipe(recipe_in(uninterrupted.path), {});

  TempDir interrupted;
  InterruptAtEpochEnd::armed = true;
  const auto recipe = recipe_in(interrupted.path);
  const fs::path stage = fs::path(recipe.run_dir) / "lm";
  try {
    lmforge::run_recipe(recipe, {});
    FAIL("the run was not interrupted");
  } catch (const lmforge::Error& e) {
    CHECK(e.code() == lmforge::ExitCode::kInterrupted);
  }
  lmforge::clear_interrupt_request();
  InterruptAtEpochEnd::armed = false;
  // Epoch 1's validation ran before the stop, and the checkpoint starts epoch 2.
  CHECK_THAT(read(stage / "metrics.jsonl"), Catch::Contains("\"epoch\": 1"));
  auto latest = lmforge::CheckpointStore(stage.string()).latest();
  REQUIRE(latest);
  auto meta = lmforge::CheckpointStore::read_meta(*latest);
  CHECK(meta.epoch == 1);
  CHECK(meta.step_in_epoch == 0);

  lmforge::RunOptions resume;
  resume.resume = true;
  lmforge::run_recipe(recipe, resume);
  const fs::path full = fs::path(recipe_in(uninterrupted.path).run_dir) / "lm" / "metrics.jsonl";
  const std::string expected = comparable_metrics(full);
  CHECK_FALSE(expected.empty());
  CHECK(comparable_metrics(stage / "metrics.jsonl") == expected);
}
