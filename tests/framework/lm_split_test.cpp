// The language-modelling task's valid_fraction: the end of the training stream becomes the valid
// split (nanoGPT's 90/10 split of a single text), and training no longer sees it.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/model.h"
#include "support/temp_dir.h"
#include "tasks/language_modeling/language_modeling_task.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::LanguageModelingOptions;
using lmforge::LanguageModelingTask;

namespace {

using lmforge::test::TempDir;

/// Records every id it is fed.
class RecordingBackbone : public lmforge::Backbone {
 public:
  std::set<std::int64_t> seen;
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    auto ids = input.tokens.contiguous();
    for (std::int64_t i = 0; i < ids.numel(); ++i) seen.insert(ids.data_ptr<std::int64_t>()[i]);
    lmforge::Features f;
    f.sequence = torch::zeros({input.tokens.size(0), input.tokens.size(1), 1});
    return f;
  }
  std::int64_t output_size() const override { return 1; }
  torch::Tensor input_embedding() override { return {}; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {}; }
  bool carries_state() const override { return false; }
};

class UniformHead : public lmforge::Head {
 public:
  explicit UniformHead(std::int64_t vocab) : vocab_(vocab) {
    bias_ = register_parameter("bias", torch::zeros({1}));
  }
  torch::Tensor forward(const lmforge::Features& features) override {
    return torch::zeros({features.sequence.size(0), features.sequence.size(1), vocab_}) + bias_;
  }

 private:
  std::int64_t vocab_;
  torch::Tensor bias_;
};

lmforge::TaskContext context(std::int64_t batch_size) {
  lmforge::TaskContext c;
  c.place = "recipe.yaml:5:5";
  c.batch_size = batch_size;
  return c;
}

/// 99 distinct words on one line: with <eos>, a stream of 100 tokens, word i having id 4 + i.
std::string hundred_tokens() {
  std::string text = "w0";
  for (int i = 1; i < 99; ++i) text += " w" + std::to_string(i);
  return text + "\n";
}

}  // namespace

TEST_CASE("valid_fraction holds out the end of the training text as the valid split",
          "[task][lm]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.train = dir.file("train.txt", hundred_tokens());
  options.bptt = 5;
  options.valid_fraction = 0.1;
  LanguageModelingTask task(options, context(2));
  lmforge::WordTokenizer tokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
  task.prepare(tokenizer, true);
  CHECK(tokenizer.vocabulary().size() == 4 + 99);  // fitted on the whole file
  REQUIRE(task.eval_splits() == std::vector<std::string>{"valid"});
  // 90 training tokens in 2 rows of 45: 44 (input, target) pairs in windows of 5 -> 9 steps.
  CHECK(task.steps_per_epoch() == 9);

  auto training = std::make_shared<RecordingBackbone>();
  lmforge::Model train_model(training, std::make_shared<UniformHead>(103));
  task.start_epoch(0);
  for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step)
    task.train_step(train_model, step);
  CHECK(*training->seen.begin() == 4);
  CHECK(*training->seen.rbegin() == 4 + 88);  // the last input of row 1 (position 88)

  auto evaluating = std::make_shared<RecordingBackbone>();
  lmforge::Model eval_model(evaluating, std::make_shared<UniformHead>(103));
  auto metrics = task.evaluate(eval_model, "valid");
  CHECK(metrics.at("loss") == Approx(std::log(103.0)));
  // Held out: positions 90..99 (ids 94..102 and <eos>); inputs are all but the last column.
  for (std::int64_t id : evaluating->seen) {
    INFO(id);
    CHECK(id >= 94);
  }
}

TEST_CASE("valid_fraction and a valid file exclude each other", "[task][lm]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.train = dir.file("train.txt", hundred_tokens());
  options.valid = dir.file("valid.txt", "w1 w2 w3\n");
  options.valid_fraction = 0.1;
  LanguageModelingTask task(options, context(2));
  lmforge::WordTokenizer tokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
  CHECK_THROWS_AS(task.prepare(tokenizer, true), lmforge::ConfigError);
}
