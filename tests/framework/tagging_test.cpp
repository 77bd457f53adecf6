// The tagging task: reading CoNLL-style files, whole-token lookup (Korean included), the label
// set, seeded sub-sampling, padded batches, metrics, resume state, labels.txt, and an LSTM +
// tagger trained end to end that beats the per-word baseline on context-dependent tags.
#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "builtins.h"
#include "heads/tagger/tagger_head.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "lmforge/vocabulary.h"
#include "models/lstm/lstm.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"
#include "tasks/tagging/tagging_task.h"
#include "text/char_tokenizer.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::TaggingOptions;
using lmforge::TaggingTask;
using lmforge::Vocabulary;
using lmforge::WordTokenizer;
using Sentences = std::vector<TaggingTask::Sentence>;

namespace {

using lmforge::test::TempDir;

WordTokenizer word_tokenizer(bool lowercase = false) {
  lmforge::WordTokenizerOptions options;
  options.lowercase = lowercase;
  return WordTokenizer(options, lmforge::NoContext{});
}

lmforge::TaskContext context(std::int64_t batch_size = 4, std::uint64_t seed = 1) {
  lmforge::TaskContext c;
  c.place = "task";
  c.batch_size = batch_size;
  c.seed = seed;
  return c;
}

Sentences read(const TaggingOptions& options, const std::string& path) {
  return TaggingTask::read_sentences(options, path, "train", "task");
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

// `n` one-line-per-token sentences "s<i> L<i % 3>" / "x L0", so a kept sentence can be traced
// back by its first token.
std::string numbered_sentences(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "s" + std::to_string(i) + " L" + std::to_string(i % 3) + "\nx L0\n\n";
  }
  return out;
}

// First token of each example of `split`, as text.
std::vector<std::string> first_tokens(const TaggingTask& task, const WordTokenizer& tokenizer,
                                      const std::string& split) {
  std::vector<std::string> out;
  for (const auto& e : task.examples(split)) out.push_back(tokenizer.vocabulary().token(e.ids[0]));
  return out;
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
class ConstantTagHead : public lmforge::Head {
 public:
  explicit ConstantTagHead(std::int64_t labels) {
    auto init = torch::zeros({labels});
    init[0] = 3.0;
    bias_ = register_parameter("bias", init);
  }
  torch::Tensor forward(const lmforge::Features& f) override {
    auto zero = 0 * f.sequence.sum(2, /*keepdim=*/true);
    return bias_.expand({f.sequence.size(0), f.sequence.size(1), bias_.size(0)}) + zero;
  }

 private:
  torch::Tensor bias_;
};

// A toy grammar whose tags need context: "fly", "watch" and "배" are nouns after a determiner or
// adjective and verbs after a noun, so a word's most frequent tag is often wrong for them while
// a left-to-right model can get every tag right.
std::string tagged_corpus(int sentences, unsigned seed) {
  const std::vector<std::string> det = {"the", "a", "그"};
  const std::vector<std::string> adj = {"big", "red", "작은"};
  const std::vector<std::string> noun = {"dog", "cat", "개", "고양이"};
  const std::vector<std::string> verb = {"runs", "sees", "본다"};
  const std::vector<std::string> ambiguous = {"fly", "watch", "배"};
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<std::string>& words) { return words[rng() % words.size()]; };
  auto coin = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  std::ostringstream out;
  for (int s = 0; s < sentences; ++s) {
    auto noun_phrase = [&] {
      out << pick(det) << "\tDET\n";
      if (coin(0.4)) out << pick(adj) << "\tADJ\n";
      out << (coin(0.7) ? pick(ambiguous) : pick(noun)) << "\tNOUN\n";
    };
    noun_phrase();
    out << (coin(0.7) ? pick(ambiguous) : pick(verb)) << "\tVERB\n";
    if (coin(0.6)) noun_phrase();
    out << "\n";
  }
  return out.str();
}

}  // namespace

// --- reading
// ---------------------------------------------------------------------------------------

TEST_CASE("tagging: sentences, columns, comments, DOCSTART and Korean tokens", "[task][tagging]") {
  TempDir dir;
  auto path = dir.file("train.conll",
                       "\xEF\xBB\xBF# sent_id = 1\n"
                       "-DOCSTART- -X- -X- O\n"
                       "\n"
                       "The DT B-NP O\n"
                       "dog\tNN  I-NP\tO\r\n"
                       "# a comment inside a sentence does not end it\n"
                       "barks VBZ B-VP O\n"
                       "\n"
                       "   \n"
                       "\n"
                       "서울에서 NNP B-NP B-LOC\n"
                       "만나요 VV B-VP O\n"
                       " \t\n"
                       "end . O O");  // no final newline
  TaggingOptions o;
  Sentences s = read(o, path);
  REQUIRE(s.size() == 3);
  CHECK(s[0].tokens == std::vector<std::string>{"The", "dog", "barks"});
  CHECK(s[0].labels == std::vector<std::string>{"O", "O", "O"});
  CHECK(s[0].lines == std::vector<std::int64_t>{4, 5, 7});
  CHECK(s[0].path == path);
  CHECK(s[1].tokens == std::vector<std::string>{"서울에서", "만나요"});
  CHECK(s[1].labels == std::vector<std::string>{"B-LOC", "O"});
  CHECK(s[2].tokens == std::vector<std::string>{"end"});
  CHECK(s[2].lines == std::vector<std::int64_t>{14});

  o.label_column = 1;
  s = read(o, path);
  CHECK(s[0].labels == std::vector<std::string>{"DT", "NN", "VBZ"});
  o.token_column = -2;  // second from the end
  o.label_column = -1;
  s = read(o, path);
  CHECK(s[1].tokens == std::vector<std::string>{"B-NP", "B-VP"});

  // Tab-separated columns may hold spaces; a comment prefix can be switched off or changed.
  o = {};
  o.separator = "tab";
  o.comment_prefix = "";
  auto tabs = dir.file("tabs.tsv", "New York\t B-LOC \n#\tSYM\n");
  s = read(o, tabs);
  REQUIRE(s.size() == 1);
  CHECK(s[0].tokens == std::vector<std::string>{"New York", "#"});
  CHECK(s[0].labels == std::vector<std::string>{"B-LOC", "SYM"});
}

TEST_CASE("tagging: cp1252 and invalid bytes are decoded, not fatal", "[task][tagging]") {
  TempDir dir;
  auto path = dir.file("latin.conll", "caf\xe9 NOUN\n\x93quoted\x94 X\n");
  TaggingOptions o;
  o.encoding = "cp1252";
  Sentences s = read(o, path);
  REQUIRE(s.size() == 1);
  CHECK(s[0].tokens[0] == "caf\xC3\xA9");
  CHECK(s[0].tokens[1] == "\xE2\x80\x9Cquoted\xE2\x80\x9D");
  // As UTF-8 those bytes are invalid: replaced and counted, not fatal while they are a small
  // share of the file.
  std::string mostly_valid = "caf\xe9 NOUN\n\x93quoted\x94 X\n";
  for (int i = 0; i < 40; ++i) mostly_valid += "plain NOUN\n";
  o.encoding = "utf-8";
  s = read(o, dir.file("latin_utf8.conll", mostly_valid));
  CHECK(s[0].tokens[0].find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD
}

TEST_CASE("tagging: a malformed line is one DataError naming file:line", "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  std::string what;
  auto lonely = dir.file("a.conll", "dog NN\n\nlonely\n");
  CHECK(data_error_place([&] { read(o, lonely); }, &what) == lonely + ":3");
  CHECK(what.find("1 column") != std::string::npos);
  CHECK(what.find("'lonely'") != std::string::npos);

  o.separator = "tab";
  auto spaces = dir.file("b.tsv", "dog\tNN\ncat NN\n");
  CHECK(data_error_place([&] { read(o, spaces); }) == spaces + ":2");
  auto no_label = dir.file("c.tsv", "dog\tNN\ncat\t \n");
  CHECK(data_error_place([&] { read(o, no_label); }, &what) == no_label + ":2");
  CHECK(what.find("empty label") != std::string::npos);

  o = {};
  o.token_column = 3;
  auto narrow = dir.file("d.conll", "dog NN\n");
  CHECK(data_error_place([&] { read(o, narrow); }) == narrow + ":1");
  CHECK(data_error_place([&] { read(o, (dir.path / "missing").string()); }) == "task");

  // Through prepare: the bad line of the test file is named, the training file is fine.
  o = {};
  o.train = dir.file("train.conll", "dog NN\n");
  o.test = dir.file("test.conll", "dog NN\n\ndog NN extra\ncat\n");
  auto tokenizer = word_tokenizer();
  CHECK(data_error_place([&] { TaggingTask(o, context()).prepare(tokenizer, true); }) ==
        o.test + ":4");

  o.test.clear();
  o.train = dir.file("empty.conll", "\n# only a comment\n\n");
  CHECK(data_error_place([&] { TaggingTask(o, context()).prepare(tokenizer, true); }, &what) ==
        "task");
  CHECK(what.find("no sentences") != std::string::npos);
}

TEST_CASE("tagging: inconsistent options are ConfigErrors", "[task][tagging]") {
  TaggingOptions o;
  o.label_column = 0;
  CHECK_THROWS_AS(TaggingTask(o, context()), lmforge::ConfigError);
  o = {};
  o.fraction = 0;
  CHECK_THROWS_AS(TaggingTask(o, context()), lmforge::ConfigError);
  o = {};
  o.valid = "valid.conll";
  o.valid_fraction = 0.1;
  CHECK_THROWS_AS(TaggingTask(o, context()), lmforge::ConfigError);
}

TEST_CASE("tagging: an unknown label in valid or test is refused at its line", "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  o.train = dir.file("train.conll", "a X\nb Y\n");
  o.valid = dir.file("valid.conll", "a X\n");
  o.test = dir.file("test.conll", "a X\n\nb Y\nb Z\n");
  auto tokenizer = word_tokenizer();
  std::string what;
  CHECK(data_error_place([&] { TaggingTask(o, context()).prepare(tokenizer, true); }, &what) ==
        o.test + ":4");
  CHECK(what.find("'Z'") != std::string::npos);
  CHECK(what.find("X, Y") != std::string::npos);
}

// --- vocabulary and label set
// ---------------------------------------------------------------------------------------

TEST_CASE("tagging: tokens are looked up whole, lowercased by the tokenizer, Korean intact",
          "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  o.train = dir.file("train.conll",
                     "The DET\ndog NOUN\n, PUNCT\nU.S. PROPN\n\n"
                     "the DET\n서울에서 PROPN\n고양이가 NOUN\n");
  o.test = dir.file("test.conll", "THE DET\n고양이가 NOUN\nunseen NOUN\n");
  auto tokenizer = word_tokenizer(/*lowercase=*/true);
  TaggingTask task(o, context());
  task.prepare(tokenizer, true);
  const auto& vocab = tokenizer.vocabulary();
  CHECK(vocab.contains("the"));
  CHECK_FALSE(vocab.contains("The"));
  CHECK(vocab.counts()[vocab.id("the")] == 2);
  CHECK(vocab.contains("서울에서"));
  CHECK(vocab.contains("고양이가"));
  CHECK(vocab.contains(","));
  // "U.S." would be four word pieces; it stays one token (so labels stay aligned) and is <unk>.
  CHECK_FALSE(vocab.contains("u"));
  CHECK(TaggingTask::token_id(tokenizer, "U.S.") == Vocabulary::kUnk);
  CHECK(TaggingTask::token_id(tokenizer, "THE") == vocab.id("the"));

  const auto& train = task.examples("train");
  REQUIRE(train.size() == 2);
  CHECK(train[0].ids.size() == 4);
  CHECK(train[0].labels.size() == 4);
  CHECK(train[0].ids[3] == Vocabulary::kUnk);
  CHECK(train[1].ids[1] == vocab.id("서울에서"));
  CHECK(task.labels() == std::vector<std::string>{"DET", "NOUN", "PROPN", "PUNCT"});
  const auto& test = task.examples("test");
  REQUIRE(test.size() == 1);
  CHECK(test[0].ids ==
        std::vector<std::int64_t>{vocab.id("the"), vocab.id("고양이가"), Vocabulary::kUnk});
  CHECK(test[0].labels == std::vector<std::int64_t>{0, 1, 1});

  // A vocabulary from an earlier stage is used as it is.
  Vocabulary given;
  given.add("dog");
  auto inherited = word_tokenizer();
  inherited.set_vocabulary(given);
  TaggingTask reuse(o, context());
  reuse.prepare(inherited, false);
  CHECK(inherited.vocabulary() == given);
  CHECK(reuse.examples("train")[0].ids[1] == given.id("dog"));

  // A tokenizer that cuts most tokens into pieces cannot feed a tagger.
  lmforge::CharTokenizer chars(lmforge::CharTokenizerOptions{}, lmforge::NoContext{});
  TaggingTask by_char(o, context());
  CHECK_THROWS_AS(by_char.prepare(chars, true), lmforge::ConfigError);
}

TEST_CASE("tagging: labels.txt round trip", "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  o.train = dir.file("train.conll", "a I-PER\nb O\n\nc B-PER\n");
  auto tokenizer = word_tokenizer();
  TaggingTask task(o, context());
  task.prepare(tokenizer, true);
  task.save_artifacts(dir.path.string());
  std::ifstream saved(dir.path / "labels.txt");
  std::string content((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
  CHECK(content == "B-PER\nI-PER\nO\n");

  TaggingTask loaded(o, context());
  loaded.load_artifacts(dir.path.string());
  CHECK(loaded.labels() == task.labels());
  CHECK(loaded.num_outputs() == 3);

  TempDir bad;
  CHECK_THROWS_AS(loaded.load_artifacts(bad.path.string()), lmforge::DataError);
  bad.file("labels.txt", "\n");
  CHECK_THROWS_AS(loaded.load_artifacts(bad.path.string()), lmforge::DataError);
  auto twice = bad.file("labels.txt", "O\nB-PER\nO\n");
  CHECK(data_error_place([&] { loaded.load_artifacts(bad.path.string()); }) == twice + ":3");
}

TEST_CASE("tagging is a task plugin", "[task][tagging]") {
  lmforge::test::load_build_plugins();
  const auto& info = lmforge::Registry::instance().find("task", "tagging", "test");
  CHECK(info.source.find("lmforge_tagging") != std::string::npos);
}

// --- sub-sampling and batches
// ---------------------------------------------------------------------------------------

TEST_CASE("tagging: fraction, limit and valid_fraction pick sentences by seed", "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  o.train = dir.file("train.conll", numbered_sentences(100));
  // One vocabulary for every run, so first tokens compare across runs.
  Vocabulary vocab;
  for (int i = 0; i < 100; ++i) vocab.add("s" + std::to_string(i));
  auto run = [&](std::uint64_t seed) {
    auto tokenizer = word_tokenizer();
    tokenizer.set_vocabulary(vocab);
    TaggingTask task(o, context(4, seed));
    task.prepare(tokenizer, false);
    CHECK(task.num_outputs() == 3);  // the label set never shrinks with the data
    return std::make_pair(first_tokens(task, tokenizer, "train"),
                          first_tokens(task, tokenizer, "valid"));
  };
  o.fraction = 0.1;
  auto kept = run(1).first;
  CHECK(kept.size() == 10);
  CHECK(run(1).first == kept);
  CHECK(run(2).first != kept);
  CHECK(std::set<std::string>(kept.begin(), kept.end()).size() == 10);

  o.fraction = 1;
  o.limit = 7;
  auto limited = run(1).first;
  CHECK(limited.size() == 7);
  CHECK(run(1).first == limited);
  CHECK(run(5).first != limited);
  o.limit = 1000;
  CHECK(run(1).first.size() == 100);

  o.limit = 0;
  o.valid_fraction = 0.2;
  auto [train, valid] = run(1);
  CHECK(train.size() == 80);
  CHECK(valid.size() == 20);
  for (const auto& t : valid) CHECK(std::find(train.begin(), train.end(), t) == train.end());
  // The held-out sentences do not depend on `fraction`, so label-efficiency runs share them.
  o.fraction = 0.5;
  auto [half, same_valid] = run(1);
  CHECK(same_valid == valid);
  CHECK(half.size() == 40);
}

TEST_CASE("tagging: batches are padded, cover every piece once and repeat with the seed",
          "[task][tagging]") {
  TempDir dir;
  std::string lines;
  std::mt19937 lengths(5);
  for (int i = 0; i < 57; ++i) {
    for (unsigned k = 1 + lengths() % 9; k > 0; --k)
      lines += "w" + std::to_string(k) + " T" + std::to_string(k % 2) + "\n";
    lines += "\n";
  }
  lines += "a T0\nb T1\nc T0\nd T1\ne T0\nf T1\ng T0\nh T1\ni T0\nj T1\n";  // cut into 4, 4, 2
  TaggingOptions o;
  o.train = dir.file("train.conll", lines);
  o.max_length = 4;
  auto tokenizer = word_tokenizer();
  TaggingTask task(o, context(8, 11));
  task.prepare(tokenizer, true);
  const auto& examples = task.examples("train");
  std::int64_t longest = 0;
  for (const auto& e : examples) longest = std::max<std::int64_t>(longest, e.ids.size());
  CHECK(longest == 4);
  REQUIRE(examples.size() >= 60);
  CHECK(tokenizer.decode(examples[examples.size() - 1].ids) == "i j");
  CHECK(tokenizer.decode(examples[examples.size() - 2].ids) == "e f g h");

  task.start_epoch(0);
  auto epoch0 = task.epoch_batches();
  REQUIRE(static_cast<std::int64_t>(epoch0.size()) == task.steps_per_epoch());
  std::vector<int> seen(examples.size(), 0);
  for (const auto& batch : epoch0) {
    CHECK(batch.size() <= 8);
    for (auto i : batch) ++seen[i];
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));

  for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
    auto batch = task.train_batch(step);
    const auto& indices = epoch0[step];
    REQUIRE(batch.targets.sizes().vec() == batch.tokens.sizes().vec());
    std::int64_t real = 0;
    for (std::int64_t r = 0; r < static_cast<std::int64_t>(indices.size()); ++r) {
      const auto& e = examples[indices[r]];
      auto n = static_cast<std::int64_t>(e.ids.size());
      auto width = batch.tokens.size(1);
      real += n;
      CHECK(batch.mask[r].sum().item<std::int64_t>() == n);
      CHECK(torch::equal(batch.tokens[r].narrow(0, 0, n), torch::tensor(e.ids, torch::kLong)));
      CHECK(torch::equal(batch.targets[r].narrow(0, 0, n), torch::tensor(e.labels, torch::kLong)));
      CHECK((batch.tokens[r].narrow(0, n, width - n) == Vocabulary::kPad).all().item<bool>());
      CHECK((batch.targets[r].narrow(0, n, width - n) == -100).all().item<bool>());
    }
    CHECK(batch.real_tokens == real);
  }

  task.start_epoch(1);
  CHECK(task.epoch_batches() != epoch0);
  task.start_epoch(0);
  CHECK(task.epoch_batches() == epoch0);
  auto tokenizer2 = word_tokenizer();
  TaggingTask same_seed(o, context(8, 11));
  same_seed.prepare(tokenizer2, true);
  same_seed.start_epoch(0);
  CHECK(same_seed.epoch_batches() == epoch0);
}

// --- evaluation, prediction and resume state
// ---------------------------------------------------------------------------------------

TEST_CASE("tagging: metrics, baselines, summary and predict with a constant model",
          "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  o.train = dir.file("train.conll", "a A\nb B\nc A\n\na A\nd C\n");
  o.test = dir.file("test.conll", "a A\nb B\nb B\nc C\n");
  o.max_length = 2;
  auto tokenizer = word_tokenizer();
  TaggingTask task(o, context(3));
  task.prepare(tokenizer, true);
  lmforge::Model model(std::make_shared<ToyBackbone>(tokenizer.vocabulary().size()),
                       std::make_shared<ConstantTagHead>(3));

  auto step = task.train_step(model, 0);
  CHECK(step.loss.dim() == 0);
  CHECK(step.tokens > 0);
  step.loss.backward();

  auto metrics = task.evaluate(model, "test");
  CHECK(model.is_training());
  CHECK(metrics.at("accuracy") == Approx(0.25));
  CHECK(metrics.at("precision.A") == Approx(0.25));
  CHECK(metrics.at("recall.A") == Approx(1.0));
  CHECK(metrics.at("recall.B") == Approx(0.0));
  CHECK(metrics.at("precision.B") == Approx(0.0));
  CHECK(metrics.at("macro_f1") == Approx(0.4 / 3));  // F1: A 0.4, B 0, C 0
  CHECK(metrics.at("loss") > 0);
  CHECK(task.evaluate(model, "valid").empty());
  CHECK(task.majority_baseline("test") == Approx(0.25));  // A, the most frequent training tag
  CHECK(task.word_baseline("test") == Approx(0.75));      // a->A, b->B, c->A
  CHECK(task.majority_baseline("valid") == -1);

  auto lines = task.summary({{"test.accuracy", 0.25}, {"test.macro_f1", 0.4 / 3}});
  for (const auto& line : lines) std::cout << line << "\n";
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] ==
        "test token accuracy 0.2500 (majority-tag baseline 0.2500, most-frequent-tag-per-word "
        "baseline 0.7500), macro-F1 0.1333");
  CHECK(lines[1].find("confusion matrix on test") != std::string::npos);
  CHECK(lines[2] == "  A B C");
  CHECK(lines[3] == "A 1 0 0");
  CHECK(lines[4] == "B 2 0 0");

  auto tagged = task.predict(model, tokenizer, {"a b", "", "z  z z z z"});
  REQUIRE(tagged.size() == 3);
  CHECK(tagged[0].tokens == std::vector<std::string>{"a", "b"});
  CHECK(tagged[1].tokens.empty());
  CHECK(tagged[1].probabilities.size(0) == 0);
  REQUIRE(tagged[2].probabilities.sizes().vec() == std::vector<std::int64_t>{5, 3});
  CHECK(tagged[0].labels == std::vector<std::string>{"A", "A"});
  CHECK(tagged[0].scores.size() == 2);
  for (const auto& t : tagged) {
    CHECK(torch::allclose(t.probabilities.sum(1), torch::ones({t.probabilities.size(0)})));
    CHECK((t.probabilities.argmax(1) == 0).all().item<bool>());
  }
}

TEST_CASE("tagging: resume state accepts the same data and refuses changed data",
          "[task][tagging]") {
  TempDir dir;
  TaggingOptions o;
  o.train = dir.file("train.conll", numbered_sentences(20));
  auto prepared = [&](double fraction) {
    auto tokenizer = word_tokenizer();
    o.fraction = fraction;
    auto task = std::make_unique<TaggingTask>(o, context());
    task->prepare(tokenizer, true);
    return task;
  };
  torch::serialize::OutputArchive out;
  prepared(1.0)->save_state(out);
  std::string path = (dir.path / "state.pt").string();
  out.save_to(path);

  torch::serialize::InputArchive same;
  same.load_from(path);
  CHECK_NOTHROW(prepared(1.0)->load_state(same));
  torch::serialize::InputArchive changed;
  changed.load_from(path);
  std::string what;
  CHECK(data_error_place([&] { prepared(0.5)->load_state(changed); }, &what) == "task");
  CHECK(what.find("20 sentences") != std::string::npos);
  CHECK(what.find("10 sentences") != std::string::npos);
}

// --- end to end
// ---------------------------------------------------------------------------------------

TEST_CASE("tagging: lstm + tagger learns context-dependent tags beyond the per-word baseline",
          "[task][tagging][train]") {
  TempDir dir;
  torch::manual_seed(4);
  TaggingOptions o;
  o.train = dir.file("train.conll", tagged_corpus(400, 1));
  o.test = dir.file("test.conll", tagged_corpus(150, 2));
  o.separator = "tab";
  auto tokenizer = word_tokenizer();
  TaggingTask task(o, context(16, 3));
  task.prepare(tokenizer, true);
  REQUIRE(task.labels() == std::vector<std::string>{"ADJ", "DET", "NOUN", "VERB"});

  lmforge::LstmOptions lstm;
  lstm.embedding_dim = 24;
  lstm.hidden_size = 48;
  lstm.layers = 1;
  lstm.dropout = 0.0;
  lstm.tie_output = false;
  auto backbone = std::make_shared<lmforge::LstmBackbone>(
      lstm, lmforge::BackboneContext{tokenizer.vocabulary().size(), Vocabulary::kPad});
  lmforge::TaggerHeadOptions head_options;
  head_options.dropout = 0.0;
  auto head = std::make_shared<lmforge::TaggerHead>(
      head_options,
      lmforge::HeadContext{backbone->output_size(), task.num_outputs(), backbone.get()});
  lmforge::Model model(backbone, head);
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(0.01));
  model.train();
  for (std::int64_t epoch = 0; epoch < 8; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      optimizer.zero_grad();
      task.train_step(model, step).loss.backward();
      optimizer.step();
    }
  }
  auto metrics = task.evaluate(model, "test");
  double accuracy = metrics.at("accuracy");
  double majority = task.majority_baseline("test");
  double per_word = task.word_baseline("test");
  for (const auto& line :
       task.summary({{"test.accuracy", accuracy}, {"test.macro_f1", metrics.at("macro_f1")}})) {
    std::cout << line << "\n";
  }
  CHECK(majority < 0.45);
  CHECK(per_word < 0.9);
  CHECK(accuracy > 0.97);
  CHECK(accuracy > per_word + 0.08);
  CHECK(metrics.at("macro_f1") > 0.95);
  CHECK(metrics.at("recall.VERB") > 0.95);
}
