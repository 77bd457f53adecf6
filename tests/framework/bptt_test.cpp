// The language-modelling task's BPTT batching: batchify cuts one token stream into parallel rows;
// each training step reads the next `bptt` columns, the target is the input shifted by one token,
// the recurrent state is carried from step to step and cleared at each epoch.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "support/temp_dir.h"
#include "tasks/language_modeling/language_modeling_task.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::LanguageModelingOptions;
using lmforge::LanguageModelingTask;
using lmforge::Vocabulary;

namespace {

using lmforge::test::TempDir;

/// `n` distinct words w0 ... w{n-1} on one line: with a fitted vocabulary word i gets id 4 + i.
std::string distinct_words(int n, int from = 0) {
  std::string text;
  for (int i = from; i < from + n; ++i) text += (i == from ? "w" : " w") + std::to_string(i);
  return text + "\n";
}

/// Records what the task feeds it; returns a state that counts calls so carrying is visible.
class RecordingBackbone : public lmforge::Backbone {
 public:
  std::vector<torch::Tensor> inputs;
  std::vector<lmforge::State> states_in;
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    inputs.push_back(input.tokens.clone());
    states_in.push_back(input.state);
    std::int64_t calls = static_cast<std::int64_t>(inputs.size());
    lmforge::Features f;
    f.sequence = torch::zeros({input.tokens.size(0), input.tokens.size(1), 1});
    f.state = {torch::full({1}, calls, torch::kLong)};
    return f;
  }
  std::int64_t output_size() const override { return 1; }
  torch::Tensor input_embedding() override { return {}; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {}; }
};

/// Uniform logits over `vocab` outputs (so the loss is exactly log V); records the targets.
class UniformHead : public lmforge::Head {
 public:
  explicit UniformHead(std::int64_t vocab) : vocab_(vocab) {
    bias_ = register_parameter("bias", torch::zeros({1}));
  }
  std::vector<torch::Tensor> targets;
  torch::Tensor forward(const lmforge::Features& features) override {
    return torch::zeros({features.sequence.size(0), features.sequence.size(1), vocab_}) + bias_;
  }
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& t) override {
    targets.push_back(t.clone());
    return Head::loss(logits, t);
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

lmforge::WordTokenizer tokenizer() {
  return lmforge::WordTokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
}

std::vector<std::int64_t> to_vector(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kLong);
  return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(),
                                   c.data_ptr<std::int64_t>() + c.numel());
}

}  // namespace

TEST_CASE("batchify cuts a stream into rows of consecutive tokens, dropping the tail",
          "[task][lm][bptt]") {
  torch::Tensor stream = torch::arange(23, torch::kLong);
  torch::Tensor rows = LanguageModelingTask::batchify(stream, 4);
  REQUIRE(rows.sizes() == torch::IntArrayRef({4, 5}));
  CHECK(rows.is_contiguous());
  CHECK(rows.dtype() == torch::kLong);
  for (std::int64_t r = 0; r < 4; ++r) {
    for (std::int64_t c = 0; c < 5; ++c) CHECK(rows[r][c].item<std::int64_t>() == r * 5 + c);
  }
  // Exact multiples keep every token; one row is the whole stream.
  CHECK(LanguageModelingTask::batchify(torch::arange(12), 3).sizes() == torch::IntArrayRef({3, 4}));
  CHECK(to_vector(LanguageModelingTask::batchify(torch::arange(7), 1)) ==
        std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6});
  // Fewer tokens than rows: rows of zero columns, not a crash.
  CHECK(LanguageModelingTask::batchify(torch::arange(3), 4).size(1) == 0);
}

TEST_CASE("language modelling task: steps per epoch and shifted targets", "[task][lm][bptt]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.train = dir.file("train.txt", distinct_words(30));  // ids 4..33, then <eos>
  options.bptt = 4;
  LanguageModelingTask task(options, context(2));
  auto tok = tokenizer();
  task.prepare(tok, true);
  REQUIRE(tok.vocabulary().size() == 34);
  CHECK(task.num_outputs() == 34);
  CHECK(tok.vocabulary().token(4) == "w0");
  CHECK(tok.vocabulary().token(33) == "w29");
  // 31 tokens in 2 rows -> 15 columns; 14 (input, target) column pairs in windows of 4 -> 4 steps.
  CHECK(task.steps_per_epoch() == 4);
  CHECK(task.eval_splits().empty());

  auto backbone = std::make_shared<RecordingBackbone>();
  auto head = std::make_shared<UniformHead>(34);
  lmforge::Model model(backbone, head);
  task.start_epoch(0);
  std::int64_t tokens = 0;
  for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
    auto result = task.train_step(model, step);
    CHECK_FALSE(result.updated);
    CHECK(result.loss.item<double>() == Approx(std::log(34.0)));
    CHECK(result.loss.requires_grad());
    tokens += result.tokens;
  }
  CHECK(tokens == 2 * 14);  // every column but the last is an input exactly once
  REQUIRE(backbone->inputs.size() == 4);
  REQUIRE(head->targets.size() == 4);
  std::vector<std::int64_t> widths{4, 4, 4, 2};
  for (std::size_t s = 0; s < 4; ++s) {
    const auto& input = backbone->inputs[s];
    const auto& target = head->targets[s];
    REQUIRE(input.sizes() == torch::IntArrayRef({2, widths[s]}));
    REQUIRE(target.sizes() == input.sizes());
    for (std::int64_t r = 0; r < 2; ++r) {
      for (std::int64_t c = 0; c < widths[s]; ++c) {
        std::int64_t column = static_cast<std::int64_t>(s) * 4 + c;
        // Row r holds stream positions r*15 .. r*15+14, and stream position p has id 4 + p.
        CHECK(input[r][c].item<std::int64_t>() == 4 + r * 15 + column);
        CHECK(target[r][c].item<std::int64_t>() == 4 + r * 15 + column + 1);
      }
    }
  }
  // State: fresh at the first step, then the previous step's state carried (and detached).
  CHECK(backbone->states_in[0].empty());
  for (std::size_t s = 1; s < 4; ++s) {
    REQUIRE(backbone->states_in[s].size() == 1);
    CHECK(backbone->states_in[s][0].item<std::int64_t>() == static_cast<std::int64_t>(s));
  }
  // A new epoch starts from a fresh state and the same windows.
  task.start_epoch(1);
  task.train_step(model, 0);
  CHECK(backbone->states_in.back().empty());
  CHECK(to_vector(backbone->inputs.back()) == to_vector(backbone->inputs[0]));
}

TEST_CASE("language modelling task: the carried state survives save_state/load_state",
          "[task][lm][bptt]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.train = dir.file("train.txt", distinct_words(40));
  options.bptt = 3;
  LanguageModelingTask task(options, context(2));
  auto tok = tokenizer();
  task.prepare(tok, true);
  auto backbone = std::make_shared<RecordingBackbone>();
  lmforge::Model model(backbone, std::make_shared<UniformHead>(tok.vocabulary().size()));
  task.start_epoch(0);
  task.train_step(model, 0);
  task.train_step(model, 1);  // state now says "2 calls"

  torch::serialize::OutputArchive out;
  task.save_state(out);
  std::stringstream buffer;
  out.save_to(buffer);

  LanguageModelingTask resumed(options, context(2));
  auto tok2 = tokenizer();
  resumed.prepare(tok2, true);
  resumed.start_epoch(0);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  resumed.load_state(in);
  auto backbone2 = std::make_shared<RecordingBackbone>();
  lmforge::Model model2(backbone2, std::make_shared<UniformHead>(tok2.vocabulary().size()));
  resumed.train_step(model2, 2);
  REQUIRE(backbone2->states_in.size() == 1);
  REQUIRE(backbone2->states_in[0].size() == 1);
  CHECK(backbone2->states_in[0][0].item<std::int64_t>() == 2);
  // ... and it reads the same window the uninterrupted task reads at step 2.
  task.train_step(model, 2);
  CHECK(to_vector(backbone2->inputs[0]) == to_vector(backbone->inputs.back()));
}

TEST_CASE("language modelling task: lines end in <eos>, eval splits and unigram baseline",
          "[task][lm][bptt]") {
  TempDir dir;
  LanguageModelingOptions options;
  // Two lines: "w0 .. w9 <eos> w10 .. w19 <eos>" = 22 tokens.
  options.train = dir.file("train.txt", distinct_words(10) + distinct_words(10, 10));
  options.valid = dir.file("valid.txt", "w1 w2 w3\nw4 w5\n");  // 7 tokens with two <eos>
  options.test = dir.file("test.txt", "w1 unseen w3\n");       // 4 tokens, one <unk>
  options.bptt = 5;
  options.eval_batch_size = 2;
  LanguageModelingTask task(options, context(1));
  auto tok = tokenizer();
  task.prepare(tok, true);
  const std::int64_t vocab = tok.vocabulary().size();
  REQUIRE(vocab == 24);  // 4 specials + 20 words
  // One row of 22 tokens: 21 column pairs in windows of 5 -> 5 steps.
  CHECK(task.steps_per_epoch() == 5);
  CHECK(task.eval_splits() == std::vector<std::string>{"valid", "test"});

  auto backbone = std::make_shared<RecordingBackbone>();
  auto head = std::make_shared<UniformHead>(vocab);
  lmforge::Model model(backbone, head);
  task.start_epoch(0);
  task.train_step(model, 0);
  CHECK(to_vector(backbone->inputs[0]) == std::vector<std::int64_t>{4, 5, 6, 7, 8});
  task.train_step(model, 2);  // columns 10..14: <eos> w10 w11 w12 w13
  CHECK(to_vector(backbone->inputs[1]) ==
        std::vector<std::int64_t>{Vocabulary::kEos, 14, 15, 16, 17});
  CHECK(to_vector(head->targets[1]) == std::vector<std::int64_t>{14, 15, 16, 17, 18});

  model.train();
  auto metrics = task.evaluate(model, "valid");
  CHECK(model.is_training());  // evaluation restores training mode
  // Uniform logits: loss log V on every token, so perplexity is exactly V.
  CHECK(metrics.at("loss") == Approx(std::log(static_cast<double>(vocab))));
  CHECK(metrics.at("ppl") == Approx(static_cast<double>(vocab)));
  CHECK(metrics.at("bits_per_token") == Approx(std::log2(static_cast<double>(vocab))));
  // The training stream: 20 distinct words once each and <eos> twice.
  double unigram = -(20 * (1.0 / 22) * std::log(1.0 / 22) + (2.0 / 22) * std::log(2.0 / 22));
  CHECK(metrics.at("unigram_ppl") == Approx(std::exp(unigram)));
  // valid: 7 tokens -> min(2, (7-1)/2) = 2 rows of 3 columns -> 2 rows x 2 targets.
  auto targets_before = head->targets.size();
  task.evaluate(model, "valid");
  std::int64_t scored = 0;
  for (std::size_t i = targets_before; i < head->targets.size(); ++i)
    scored += head->targets[i].numel();
  CHECK(scored == 4);
  auto test = task.evaluate(model, "test");
  CHECK(test.at("ppl") == Approx(static_cast<double>(vocab)));
  CHECK(to_vector(backbone->inputs.back()).front() == 5);  // w1
  CHECK(task.evaluate(model, "nonexistent").empty());
}

TEST_CASE("language modelling task: too little text is a DataError naming the file",
          "[task][lm][bptt]") {
  TempDir dir;
  LanguageModelingOptions options;
  options.train = dir.file("tiny.txt", "a b\n");  // 3 tokens
  LanguageModelingTask task(options, context(4));
  auto tok = tokenizer();
  try {
    task.prepare(tok, true);
    FAIL("3 tokens accepted for batch_size 4");
  } catch (const lmforge::DataError& e) {
    std::string what = e.what();
    CHECK_THAT(what, Catch::StartsWith("recipe.yaml:5:5"));
    CHECK_THAT(what, Catch::Contains(options.train));
    CHECK_THAT(what, Catch::Contains("too few for batch_size 4"));
  }
  LanguageModelingOptions missing;
  missing.train = (dir.path / "absent.txt").string();
  LanguageModelingTask none(missing, context(1));
  CHECK_THROWS_AS(none.prepare(tok, true), lmforge::DataError);
}
