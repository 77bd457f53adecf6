// The classification task: reading each data layout, the label set, sub-sampling for
// label-efficiency runs, deterministic length-bucketed batches, metrics and the label artifact.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "metrics/cohen_kappa/cohen_kappa.h"
#include "support/temp_dir.h"
#include "tasks/classification/classification_task.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::ClassificationOptions;
using lmforge::ClassificationTask;
using lmforge::Vocabulary;
using lmforge::WordTokenizer;
using Records = std::vector<ClassificationTask::Record>;

namespace {

using lmforge::test::TempDir;

WordTokenizer word_tokenizer() {
  return WordTokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
}

lmforge::TaskContext context(std::int64_t batch_size = 4, std::uint64_t seed = 1) {
  lmforge::TaskContext c;
  c.place = "task";
  c.batch_size = batch_size;
  c.seed = seed;
  return c;
}

Records read(const ClassificationOptions& options, const std::string& spec) {
  return ClassificationTask::read_records(options, spec, "train", "task");
}

ClassificationOptions with_format(const std::string& format) {
  ClassificationOptions o;
  o.format = format;
  return o;
}

// Runs `fn` and returns the DataError's place, or "" when nothing was thrown.
template <class Fn>
std::string data_error_place(Fn fn, std::string* what = nullptr) {
  try {
    fn();
  } catch (const lmforge::DataError& e) {
    if (what) *what = e.what();
    return e.place();
  }
  return "";
}

// "label<TAB>text" lines: `counts[label]` examples each, texts "<label><index>" so a kept
// example can be traced back.
std::string tsv_lines(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [label, n] : counts) {
    for (int i = 0; i < n; ++i) out += label + "\t" + label + "x" + std::to_string(i) + "\n";
  }
  return out;
}

std::vector<std::string> texts(const ClassificationTask& task, const WordTokenizer& tokenizer,
                               const std::string& split) {
  std::vector<std::string> out;
  for (const auto& e : task.examples(split)) out.push_back(tokenizer.decode(e.ids));
  return out;
}

std::map<std::int64_t, int> label_counts(const ClassificationTask& task, const std::string& split) {
  std::map<std::int64_t, int> counts;
  for (const auto& e : task.examples(split)) ++counts[e.labels.at(0)];
  return counts;
}

// Embeds tokens; enough of a backbone for the task's plumbing.
class ToyBackbone : public lmforge::Backbone {
 public:
  explicit ToyBackbone(std::int64_t vocab) {
    embedding_ = register_module("embedding", torch::nn::Embedding(vocab, 4));
  }
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    return {embedding_(input.tokens), input.mask, {}};
  }
  std::int64_t output_size() const override { return 4; }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {{embedding_->weight}}; }

 private:
  torch::nn::Embedding embedding_{nullptr};
};

// Always prefers label 0, so the expected metrics follow from the label counts alone.
class ConstantHead : public lmforge::Head {
 public:
  explicit ConstantHead(std::int64_t classes) {
    auto init = torch::zeros({classes});
    init[0] = 3.0;
    bias_ = register_parameter("bias", init);
  }
  torch::Tensor forward(const lmforge::Features& f) override {
    auto batch = f.sequence.size(0);
    return bias_.expand({batch, bias_.size(0)}) + 0 * f.sequence.sum({1, 2}).unsqueeze(1);
  }

 private:
  torch::Tensor bias_;
};

}  // namespace

// --- reading
// ---------------------------------------------------------------------------------------

TEST_CASE("classification: tsv columns, header and malformed lines", "[task][classification]") {
  TempDir dir;
  auto o = with_format("tsv");
  auto path = dir.file("a.tsv", "pos\tgood film\n\nneg\tbad film\t extra\n");
  Records r = read(o, path);
  REQUIRE(r.size() == 2);
  CHECK(r[0].label == "pos");
  CHECK(r[0].text == "good film");
  CHECK(r[1].label == "neg");
  CHECK(r[1].where == path + ":3");

  o.header = true;
  o.text_column = 0;
  o.label_column = 2;
  r = read(o, dir.file("b.tsv", "sentence\tid\tlabel\nfine day\t7\t 1 \n"));
  REQUIRE(r.size() == 1);
  CHECK(r[0].label == "1");
  CHECK(r[0].text == "fine day");

  o = with_format("tsv");
  auto short_line = dir.file("c.tsv", "pos\tok\nonly-one-column\n");
  std::string what;
  CHECK(data_error_place([&] { read(o, short_line); }, &what) == short_line + ":2");
  CHECK(what.find("columns") != std::string::npos);
  auto empty_label = dir.file("d.tsv", "pos\tok\n \ttext\n");
  CHECK(data_error_place([&] { read(o, empty_label); }) == empty_label + ":2");
}

TEST_CASE("classification: csv quoting, multi-line fields and header", "[task][classification]") {
  TempDir dir;
  auto o = with_format("csv");
  o.header = true;
  auto path = dir.file("a.csv",
                       "label,text\n"
                       "3,\"Wall St. Bears, again\"\n"
                       "1,\"He said \"\"hi\"\"\"\n"
                       "2,\"two\n"
                       "lines\"\n"
                       "4,plain text\n");
  Records r = read(o, path);
  REQUIRE(r.size() == 4);
  CHECK(r[0].label == "3");
  CHECK(r[0].text == "Wall St. Bears, again");
  CHECK(r[1].text == "He said \"hi\"");
  CHECK(r[2].text == "two\nlines");
  CHECK(r[2].where == path + ":4");
  CHECK(r[3].where == path + ":6");
  CHECK(r[3].text == "plain text");

  auto open = dir.file("b.csv", "label,text\n1,fine\n2,\"never closed\n3,x\n");
  CHECK(data_error_place([&] { read(o, open); }) == open + ":3");
  o.header = false;
  auto short_line = dir.file("c.csv", "1,fine\n2\n");
  CHECK(data_error_place([&] { read(o, short_line); }) == short_line + ":2");
}

TEST_CASE("classification: label_first and trec", "[task][classification]") {
  TempDir dir;
  auto sst = dir.file("stsa.binary.train", "1 a stirring , funny film\n0\tdull\n");
  Records r = read(with_format("label_first"), sst);
  REQUIRE(r.size() == 2);
  CHECK(r[0].label == "1");
  CHECK(r[0].text == "a stirring , funny film");
  CHECK(r[1].label == "0");
  CHECK(r[1].text == "dull");
  auto bad = dir.file("bad.txt", "1 fine\nlonely\n");
  CHECK(data_error_place([&] { read(with_format("label_first"), bad); }) == bad + ":2");

  auto trec = dir.file("trec.txt",
                       "DESC:manner How did serfdom develop in and then leave Russia ?\n"
                       "NUM:date When was Ozzy Osbourne born ?\n");
  auto o = with_format("trec");
  r = read(o, trec);
  REQUIRE(r.size() == 2);
  CHECK(r[0].label == "DESC");
  CHECK(r[0].text == "How did serfdom develop in and then leave Russia ?");
  CHECK(r[1].label == "NUM");
  o.trec_labels = "fine";
  r = read(o, trec);
  CHECK(r[0].label == "DESC:manner");
  CHECK(r[1].label == "NUM:date");
  auto no_colon = dir.file("trec_bad.txt", "DESC:manner ok ?\nDESC what ?\n");
  CHECK(data_error_place([&] { read(o, no_colon); }) == no_colon + ":2");
}

TEST_CASE("classification: files_per_class", "[task][classification]") {
  TempDir dir;
  auto pos = dir.file("rt-polarity.pos", "a gem\n\nwonderful\n");
  auto neg = dir.file("rt-polarity.neg", "a mess\n");
  auto o = with_format("files_per_class");
  Records r = read(o, "pos=" + pos + ", neg=" + neg);
  REQUIRE(r.size() == 3);
  CHECK(r[0].label == "pos");
  CHECK(r[0].text == "a gem");
  CHECK(r[1].where == pos + ":3");
  CHECK(r[2].label == "neg");
  CHECK(r[2].where == neg + ":1");

  CHECK_THROWS_AS(read(o, pos), lmforge::ConfigError);
  CHECK_THROWS_AS(read(o, "pos="), lmforge::ConfigError);
  CHECK_THROWS_AS(read(o, "pos=" + (dir.path / "missing").string()), lmforge::DataError);
}

TEST_CASE("classification: cp1252 and invalid bytes do not fail", "[task][classification]") {
  TempDir dir;
  auto path = dir.file("mr.pos", "\x93simply\x94 a caf\xe9 movie\n");
  auto o = with_format("files_per_class");
  o.encoding = "cp1252";
  Records r = read(o, "pos=" + path);
  REQUIRE(r.size() == 1);
  CHECK(r[0].text == "\xE2\x80\x9Csimply\xE2\x80\x9D a caf\xC3\xA9 movie");  // “simply” café

  // Read as UTF-8, the three cp1252 bytes are invalid: replaced by U+FFFD and counted, not fatal
  // while they are a small share of the file (a file mostly invalid is refused; see
  // tests/reliability/text_edge_cases_test.cpp).
  std::string mostly_valid = "\x93simply\x94 a caf\xe9 movie\n";
  for (int i = 0; i < 40; ++i) mostly_valid += "a plain line of ascii text\n";
  o.encoding = "utf-8";
  r = read(o, "pos=" + dir.file("mr_utf8.pos", mostly_valid));
  REQUIRE(r.size() == 41);
  CHECK(r[0].text.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD
}

// --- prepare
// ---------------------------------------------------------------------------------------

TEST_CASE("classification: label set, encoding and empty texts", "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "neg\tbad bad film\npos\tgood\nneu\t\nneg\tawful long film\n");
  o.test = dir.file("test.tsv", "pos\tgood film\nneg\tunseen words\n");
  o.max_length = 2;
  ClassificationTask task(o, context());
  auto tokenizer = word_tokenizer();
  task.prepare(tokenizer, true);

  CHECK(task.labels() == std::vector<std::string>{"neg", "neu", "pos"});
  CHECK(task.num_outputs() == 3);
  const auto& train = task.examples("train");
  REQUIRE(train.size() == 4);
  CHECK(train[0].labels.at(0) == 0);
  CHECK(train[1].labels.at(0) == 2);
  CHECK(train[2].labels.at(0) == 1);
  CHECK(train[0].ids.size() == 2);  // truncated to max_length, first tokens kept
  CHECK(tokenizer.decode(train[0].ids) == "bad bad");
  CHECK(train[2].ids == std::vector<std::int64_t>{Vocabulary::kUnk});  // empty text still counts
  CHECK(tokenizer.vocabulary().contains("awful"));
  CHECK(tokenizer.vocabulary().contains("long"));

  const auto& test = task.examples("test");
  REQUIRE(test.size() == 2);
  CHECK(test[1].labels.at(0) == 0);
  CHECK(test[1].ids == std::vector<std::int64_t>{Vocabulary::kUnk, Vocabulary::kUnk});
  CHECK(task.eval_splits() == std::vector<std::string>{"test"});
  CHECK(task.examples("valid").empty());
}

TEST_CASE("classification: unknown eval label and empty data are DataErrors",
          "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "pos\tgood\nneg\tbad\n");
  o.test = dir.file("test.tsv", "pos\tfine\nmaybe\tunsure\n");
  auto tokenizer = word_tokenizer();
  std::string what;
  CHECK(data_error_place([&] { ClassificationTask(o, context()).prepare(tokenizer, true); },
                         &what) == o.test + ":2");
  CHECK(what.find("'maybe'") != std::string::npos);

  o.test.clear();
  o.train = dir.file("empty.tsv", "\n\n");
  CHECK(data_error_place([&] { ClassificationTask(o, context()).prepare(tokenizer, true); },
                         &what) == "task");
  CHECK(what.find(o.train) != std::string::npos);
}

TEST_CASE("classification: inconsistent options are ConfigErrors", "[task][classification]") {
  ClassificationOptions o;
  o.fraction = 0;
  CHECK_THROWS_AS(ClassificationTask(o, context()), lmforge::ConfigError);
  o = {};
  o.valid = "valid.tsv";
  o.valid_fraction = 0.1;
  CHECK_THROWS_AS(ClassificationTask(o, context()), lmforge::ConfigError);
  o = {};
  o.text_column = 0;
  CHECK_THROWS_AS(ClassificationTask(o, context()), lmforge::ConfigError);
}

TEST_CASE("classification: fraction is stratified, limit exact, both seeded",
          "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", tsv_lines({{"a", 100}, {"b", 50}, {"c", 3}}));
  o.fraction = 0.1;
  auto run = [&](std::uint64_t seed) {
    auto tokenizer = word_tokenizer();
    ClassificationTask task(o, context(4, seed));
    task.prepare(tokenizer, true);
    CHECK(task.num_outputs() == 3);
    return std::make_pair(label_counts(task, "train"), texts(task, tokenizer, "train"));
  };
  auto [counts, kept] = run(1);
  CHECK(counts == std::map<std::int64_t, int>{{0, 10}, {1, 5}, {2, 1}});  // at least one per label
  CHECK(run(1).second == kept);
  CHECK(run(2).second != kept);
  CHECK(std::set<std::string>(kept.begin(), kept.end()).size() == kept.size());

  o.fraction = 1;
  o.limit = 30;
  auto limit_kept = run(1).second;
  CHECK(limit_kept.size() == 30);
  CHECK(run(1).second == limit_kept);
  CHECK(run(3).second != limit_kept);

  o.limit = 1000;  // more than there is: everything
  CHECK(run(1).second.size() == 153);
}

TEST_CASE("classification: valid_fraction holds out a stratified validation set",
          "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", tsv_lines({{"a", 40}, {"b", 20}, {"c", 1}}));
  o.valid_fraction = 0.25;
  auto tokenizer = word_tokenizer();
  ClassificationTask task(o, context());
  task.prepare(tokenizer, true);
  CHECK(label_counts(task, "valid") == std::map<std::int64_t, int>{{0, 10}, {1, 5}});
  CHECK(label_counts(task, "train") == std::map<std::int64_t, int>{{0, 30}, {1, 15}, {2, 1}});
  CHECK(task.eval_splits() == std::vector<std::string>{"valid"});
  auto train = texts(task, tokenizer, "train");
  for (const auto& t : texts(task, tokenizer, "valid")) {
    CHECK(std::find(train.begin(), train.end(), t) == train.end());
  }

  // The held-out set does not depend on `fraction`, so label-efficiency runs share it.
  o.fraction = 0.5;
  auto tokenizer2 = word_tokenizer();
  ClassificationTask half(o, context());
  half.prepare(tokenizer2, true);
  CHECK(texts(half, tokenizer2, "valid") == texts(task, tokenizer, "valid"));
  CHECK(half.examples("train").size() == 24);  // 15 + 8 + 1
}

// --- batches
// ---------------------------------------------------------------------------------------

TEST_CASE("classification: epoch batches cover every example once, deterministically",
          "[task][classification]") {
  TempDir dir;
  std::string lines;
  std::mt19937 lengths(5);
  for (int i = 0; i < 103; ++i) {
    lines += (i % 3 ? "pos\t" : "neg\t") + std::string("w") + std::to_string(i);
    for (unsigned k = lengths() % 12; k > 0; --k) lines += " x";
    lines += "\n";
  }
  ClassificationOptions o;
  o.train = dir.file("train.tsv", lines);
  auto tokenizer = word_tokenizer();
  ClassificationTask task(o, context(8, 11));
  task.prepare(tokenizer, true);
  const auto& examples = task.examples("train");
  REQUIRE(examples.size() == 103);
  CHECK(task.steps_per_epoch() == 13);

  task.start_epoch(0);
  auto epoch0 = task.epoch_batches();
  REQUIRE(static_cast<std::int64_t>(epoch0.size()) == task.steps_per_epoch());
  std::vector<int> seen(103, 0);
  for (const auto& batch : epoch0) {
    CHECK(batch.size() <= 8);
    for (auto i : batch) ++seen[i];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));

  for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
    auto batch = task.train_batch(step);
    const auto& indices = epoch0[step];
    REQUIRE(batch.tokens.size(0) == static_cast<std::int64_t>(indices.size()));
    REQUIRE(batch.mask.sizes().vec() == batch.tokens.sizes().vec());
    CHECK(batch.mask.scalar_type() == torch::kBool);
    std::int64_t real = 0;
    for (std::int64_t r = 0; r < static_cast<std::int64_t>(indices.size()); ++r) {
      const auto& e = examples[indices[r]];
      auto n = static_cast<std::int64_t>(e.ids.size());
      real += n;
      CHECK(batch.mask[r].sum().item<std::int64_t>() == n);
      CHECK(batch.mask[r].narrow(0, 0, n).all().item<bool>());  // right padding
      auto row = batch.tokens[r];
      CHECK(torch::equal(row.narrow(0, 0, n), torch::tensor(e.ids, torch::kLong)));
      CHECK((row.narrow(0, n, row.size(0) - n) == Vocabulary::kPad).all().item<bool>());
      CHECK(batch.targets[r].item<std::int64_t>() == e.labels.at(0));
    }
    CHECK(batch.real_tokens == real);
  }

  task.start_epoch(1);
  auto epoch1 = task.epoch_batches();
  CHECK(epoch1 != epoch0);
  task.start_epoch(0);
  CHECK(task.epoch_batches() == epoch0);

  auto tokenizer2 = word_tokenizer();
  ClassificationTask same_seed(o, context(8, 11));
  same_seed.prepare(tokenizer2, true);
  same_seed.start_epoch(0);
  CHECK(same_seed.epoch_batches() == epoch0);
}

// --- evaluation, prediction and artifacts
// -------------------------------------------------------------

TEST_CASE("classification: evaluate, predict and summary with a constant model",
          "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "a\tone\na\ttwo\nb\tthree\nc\tfour\n");
  o.test = dir.file("test.tsv", "a\tone two\nb\tthree\nb\tfour\nb\tone\n");
  auto tokenizer = word_tokenizer();
  ClassificationTask task(o, context(3));
  task.prepare(tokenizer, true);
  lmforge::Model model(std::make_shared<ToyBackbone>(tokenizer.vocabulary().size()),
                       std::make_shared<ConstantHead>(3));

  auto step = task.train_step(model, 0);
  CHECK(step.loss.dim() == 0);
  CHECK(step.tokens > 0);
  step.loss.backward();

  auto metrics = task.evaluate(model, "test");
  CHECK(model.is_training());
  CHECK(metrics.at("accuracy") == Approx(0.25));
  CHECK(metrics.at("precision.a") == Approx(0.25));
  CHECK(metrics.at("recall.a") == Approx(1.0));
  CHECK(metrics.at("recall.b") == Approx(0.0));
  // F1(a) = 0.4, F1(b) = 0; c is neither in the test set nor predicted, so it is left out.
  CHECK(metrics.at("macro_f1") == Approx(0.2));
  CHECK(metrics.at("loss") > 0);
  CHECK(task.evaluate(model, "valid").empty());

  auto lines = task.summary({{"test.accuracy", 0.25}, {"test.macro_f1", 0.2}});
  REQUIRE(lines.size() >= 4);
  CHECK(lines[0] == "test accuracy 0.2500 (majority-class baseline 0.2500), macro-F1 0.2000");
  CHECK(lines[1].find("confusion matrix on test") != std::string::npos);

  auto p = task.predict(model, tokenizer, {"one", "", "three four five"});
  REQUIRE(p.size() == 3);
  for (const auto& prediction : p) {
    CHECK(prediction.tokens.empty());  // one label per text
    REQUIRE(prediction.probabilities.sizes().vec() == std::vector<std::int64_t>{1, 3});
    CHECK(torch::allclose(prediction.probabilities.sum(1), torch::ones({1})));
    CHECK(prediction.labels == std::vector<std::string>{"a"});
    CHECK(prediction.scores.at(0) == Approx(prediction.probabilities[0][0].item<float>()));
  }
}

TEST_CASE("classification: a recipe-listed metric joins the evaluation", "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "a\tone\na\ttwo\nb\tthree\nc\tfour\n");
  o.test = dir.file("test.tsv", "a\tone two\nb\tthree\nb\tfour\nb\tone\n");
  auto tokenizer = word_tokenizer();
  auto with_metric = context(3);
  with_metric.metrics.push_back({"cohen_kappa", std::make_shared<lmforge::CohenKappa>(
                                                    lmforge::NoOptions{}, lmforge::NoContext{})});
  ClassificationTask task(o, with_metric);
  task.prepare(tokenizer, true);
  lmforge::Model model(std::make_shared<ToyBackbone>(tokenizer.vocabulary().size()),
                       std::make_shared<ConstantHead>(3));
  auto metrics = task.evaluate(model, "test");
  // The constant model answers 'a' for every text: no agreement beyond chance.
  REQUIRE(metrics.count("cohen_kappa") == 1);
  CHECK(metrics.at("cohen_kappa") == Approx(0.0));
  CHECK(metrics.at("accuracy") == Approx(0.25));
}

TEST_CASE("classification: evaluation is sharded by rank and summed over the ranks",
          "[task][classification][distributed]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "a\tone\na\ttwo\nb\tthree\nc\tfour\n");
  std::string test;
  for (int i = 0; i < 40; ++i) test += std::string(i % 3 ? "a" : "b") + "\tone two three\n";
  o.test = dir.file("test.tsv", test);
  auto tokenizer = word_tokenizer();
  ClassificationTask whole(o, context(4));
  whole.prepare(tokenizer, true);
  torch::manual_seed(3);
  lmforge::Model model(std::make_shared<ToyBackbone>(tokenizer.vocabulary().size()),
                       std::make_shared<ConstantHead>(3));
  const auto expected = whole.evaluate(model, "test");

  // Two ranks, run one after the other: rank 1 evaluates its share and keeps its sums; rank 0
  // evaluates the other share and adds them, as the all-reduce would.
  torch::Tensor rank1_sums;
  auto share = [&](int rank, std::function<void(torch::Tensor&)> sum) {
    auto c = context(4);
    c.rank = rank;
    c.world_size = 2;
    c.sum_over_ranks = std::move(sum);
    ClassificationTask task(o, c);
    auto t = word_tokenizer();
    task.prepare(t, true);
    return task.evaluate(model, "test");
  };
  share(1, [&](torch::Tensor& sums) { rank1_sums = sums.clone(); });
  REQUIRE(rank1_sums.defined());
  // Rank 1 saw about half of the 40 texts: its units (the last entry) are a share, not all.
  const double rank1_texts = rank1_sums[rank1_sums.size(0) - 1].item<double>();
  CHECK(rank1_texts > 0);
  CHECK(rank1_texts < 40);
  auto merged = share(0, [&](torch::Tensor& sums) { sums += rank1_sums; });
  for (const auto& [name, value] : expected) {
    INFO(name);
    CHECK(merged.at(name) == Approx(value).epsilon(1e-9));
  }
}

TEST_CASE("classification: the share of <unk> is reported per split, with a warning and its fix",
          "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "a\tzorblax quux\nb\tflim flam\n");
  o.test = dir.file("test.tsv", "a\tzorblax the\n");
  // A vocabulary reused from an earlier stage (init: {parts: [tokenizer]}) that knows none of
  // these words: the quickstart's vocabulary on TREC scored 39% and said nothing.
  auto tokenizer = word_tokenizer();
  tokenizer.count("the movie was good");
  tokenizer.build_vocabulary();
  ClassificationTask task(o, context());
  std::ostringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  task.prepare(tokenizer, /*fit_vocabulary=*/false);
  std::cout.rdbuf(old);
  INFO(out.str());
  CHECK_THAT(out.str(), Catch::Contains("train: 100.0% of 4 tokens are <unk>"));
  CHECK_THAT(out.str(), Catch::Contains("test: 50.0% of 2 tokens are <unk>"));
  CHECK_THAT(out.str(), Catch::Contains("vocabulary: extend"));

  // Built on its own training text, the same data has no <unk> in train and no warning there.
  auto own = word_tokenizer();
  ClassificationTask fitted(o, context());
  std::ostringstream out2;
  old = std::cout.rdbuf(out2.rdbuf());
  fitted.prepare(own, /*fit_vocabulary=*/true);
  std::cout.rdbuf(old);
  CHECK_THAT(out2.str(), Catch::Contains("train: 0.0% of 4 tokens are <unk>"));
}

TEST_CASE("classification: labels.txt round trip", "[task][classification]") {
  TempDir dir;
  ClassificationOptions o;
  o.train = dir.file("train.tsv", "z\tone\nm\ttwo\na\tthree\n");
  auto tokenizer = word_tokenizer();
  ClassificationTask task(o, context());
  task.prepare(tokenizer, true);
  task.save_artifacts(dir.path.string());
  std::ifstream saved(dir.path / "labels.txt");
  std::string content((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
  CHECK(content == "a\nm\nz\n");

  ClassificationTask loaded(o, context());
  loaded.load_artifacts(dir.path.string());
  CHECK(loaded.labels() == task.labels());
  CHECK(loaded.num_outputs() == 3);

  TempDir empty;
  CHECK_THROWS_AS(loaded.load_artifacts(empty.path.string()), lmforge::DataError);
  empty.file("labels.txt", "\n");
  CHECK_THROWS_AS(loaded.load_artifacts(empty.path.string()), lmforge::DataError);
}
