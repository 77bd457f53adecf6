// Tests of the my_task task; `ctest` in the build folder runs them.
#include "my_task.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 v3: main() comes from Catch2::Catch2WithMain
#else
#define CATCH_CONFIG_MAIN  // Catch2 v2: this file provides main()
#include <catch2/catch.hpp>
#endif
namespace {

using Task = my_task_plugin::MyTask;
using lmforge::Vocabulary;

// Small stand-ins for the components a recipe would bring, so the task is tested on its own.
class Words : public lmforge::Tokenizer {
 public:
  Words() : Tokenizer(lmforge::VocabularyOptions{}) {}
  std::vector<std::string> split(std::string_view text) const override {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
      if (c != ' ') {
        word += c;
      } else if (!word.empty()) {
        words.push_back(word);
        word.clear();
      }
    }
    if (!word.empty()) words.push_back(word);
    return words;
  }
  std::string join(const std::vector<std::string>& tokens) const override {
    std::string text;
    for (const auto& t : tokens) text += (text.empty() ? "" : " ") + t;
    return text;
  }
};

class Bigram : public lmforge::Backbone {
 public:
  explicit Bigram(std::int64_t vocab) {
    embedding_ = register_module("embedding", torch::nn::Embedding(vocab, 16));
  }
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    return {embedding_->forward(input.tokens), input.mask, {}};
  }
  std::int64_t output_size() const override { return 16; }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {parameters()}; }

 private:
  torch::nn::Embedding embedding_{nullptr};
};

class Projection : public lmforge::Head {
 public:
  explicit Projection(std::int64_t vocab) {
    linear_ = register_module("linear", torch::nn::Linear(16, vocab));
  }
  torch::Tensor forward(const lmforge::Features& features) override {
    return linear_->forward(features.sequence);
  }

 private:
  torch::nn::Linear linear_{nullptr};
};

std::string write_corpus(const std::string& name, int sentences) {
  auto path = std::filesystem::temp_directory_path() /
              ("my_task_test_" + std::to_string(::getpid()) + "_" + name + ".txt");
  std::ofstream out(path);
  std::mt19937 rng(1);
  const char* subjects[] = {"the cat", "a dog", "the bird"};
  const char* verbs[] = {"sees", "likes", "chases"};
  for (int i = 0; i < sentences; ++i) {
    out << subjects[rng() % 3] << " " << verbs[rng() % 3] << " " << subjects[rng() % 3] << "\n";
  }
  return path.string();
}

}  // namespace

TEST_CASE("my_task: a batch is <bos> + sentence in, sentence + <eos> out") {
  my_task_plugin::Sentences sentences{{5, 6, 7}, {8}};
  auto batch = my_task_plugin::make_batch(sentences, {0, 1});
  using Ids = std::vector<std::int64_t>;
  CHECK(batch.input[0].contiguous().data_ptr<std::int64_t>()[0] == Vocabulary::kBos);
  auto row = [](const torch::Tensor& t) {
    auto c = t.contiguous();
    return Ids(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel());
  };
  CHECK(row(batch.input[0]) == Ids{Vocabulary::kBos, 5, 6, 7});
  CHECK(row(batch.target[0]) == Ids{5, 6, 7, Vocabulary::kEos});
  CHECK(row(batch.input[1]) == Ids{Vocabulary::kBos, 8, Vocabulary::kPad, Vocabulary::kPad});
  CHECK(row(batch.target[1]) == Ids{8, Vocabulary::kEos, -100, -100});
  CHECK(batch.tokens == 6);
}

TEST_CASE("my_task: trains a small model and evaluates it") {
  torch::manual_seed(0);
  Task::Options options;
  options.train = write_corpus("train", 200);
  options.valid = write_corpus("valid", 40);
  lmforge::TaskContext context;
  context.batch_size = 16;
  Task task(options, context);
  Words tokenizer;
  task.prepare(tokenizer, true);
  CHECK(task.num_outputs() == tokenizer.vocabulary().size());
  CHECK(task.steps_per_epoch() == 13);
  CHECK(task.eval_splits() == std::vector<std::string>{"valid"});

  auto backbone = std::make_shared<Bigram>(task.num_outputs());
  auto head = std::make_shared<Projection>(task.num_outputs());
  lmforge::Model model(backbone, head);
  const double before = task.evaluate(model, "valid").at("loss");
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(0.05));
  for (int epoch = 0; epoch < 3; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      optimizer.zero_grad();
      auto result = task.train_step(model, step);
      REQUIRE(std::isfinite(result.loss.item<double>()));
      result.loss.backward();
      optimizer.step();
    }
  }
  auto metrics = task.evaluate(model, "valid");
  CHECK(metrics.at("loss") < before);
  CHECK(metrics.at("accuracy") > 0.3);
  CHECK(std::abs(metrics.at("ppl") - std::exp(metrics.at("loss"))) < 1e-9);
  std::remove(options.train.c_str());
  std::remove(options.valid.c_str());
}

TEST_CASE("my_task: a missing file is a DataError naming it") {
  Task::Options options;
  options.train = "/nonexistent/my_task.txt";
  Task task(options, lmforge::TaskContext{});
  Words tokenizer;
  CHECK_THROWS_AS(task.prepare(tokenizer, true), lmforge::DataError);
}
