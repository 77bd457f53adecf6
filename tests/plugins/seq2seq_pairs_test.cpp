// The seq2seq task's pairs from one tab-separated file (ko-chatbot's Q<TAB>A<TAB>label): a
// header with Korean text read into the right pairs, columns by index, held-out fractions that
// split deterministically and disjointly, and each bad input refused with one line naming it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "support/temp_dir.h"
#include "tasks/seq2seq/pair_file.h"
#include "tasks/seq2seq/seq2seq_task.h"
#include "text/char_tokenizer.h"

using lmforge::Seq2SeqOptions;
using lmforge::Seq2SeqTask;
using lmforge::seq2seq::read_pair_file;
using lmforge::seq2seq::split_rows;
using lmforge::test::TempDir;

namespace {

const char* kPlace = "recipe.yaml:5:11";

const std::string kChat =
    "Q\tA\tlabel\n"
    "12시 땡!\t하루가 또 가네요.\t0\n"
    "오늘 너무 피곤해\t푹 쉬세요.\t0\n"
    "\n"
    "헤어졌어\t힘내세요.\t1\n";

lmforge::TaskContext context() {
  lmforge::TaskContext c;
  c.place = kPlace;
  c.batch_size = 4;
  c.seed = 7;
  return c;
}

/// The single-line message of what `run` throws ("" when it throws nothing).
template <class Run>
std::string refusal(Run run) {
  try {
    run();
  } catch (const lmforge::Error& e) {
    return std::string(e.what());
  }
  return "";
}

}  // namespace

TEST_CASE("seq2seq pairs: header names pick the columns, Korean intact", "[seq2seq]") {
  TempDir dir;
  const std::string path = dir.file("chat.tsv", kChat);
  auto rows = read_pair_file(path, "utf-8", {{"Q", "A"}, false}, "pairs", kPlace);
  CHECK(rows.sources == std::vector<std::string>{"12시 땡!", "오늘 너무 피곤해", "헤어졌어"});
  CHECK(rows.targets == std::vector<std::string>{"하루가 또 가네요.", "푹 쉬세요.", "힘내세요."});
  // Line numbers count the header and the skipped blank line.
  CHECK(rows.lines == std::vector<std::int64_t>{2, 3, 5});

  // The other way round, by name, and by index (the header is then skipped only on request).
  auto reversed = read_pair_file(path, "utf-8", {{"A", "Q"}, false}, "pairs", kPlace);
  CHECK(reversed.sources.front() == "하루가 또 가네요.");
  auto indexed = read_pair_file(path, "utf-8", {{"0", "1"}, true}, "pairs", kPlace);
  CHECK(indexed.sources == rows.sources);
  auto no_header = read_pair_file(path, "utf-8", {{"0", "1"}, false}, "pairs", kPlace);
  CHECK(no_header.sources.front() == "Q");
  CHECK(no_header.sources.size() == 4);
}

TEST_CASE("seq2seq pairs: held-out fractions split by the seed, disjointly", "[seq2seq]") {
  auto a = split_rows(1000, 0.05, 0.1, 1);
  CHECK(a.valid.size() == 50);
  CHECK(a.test.size() == 100);
  CHECK(a.train.size() == 850);
  std::set<std::int64_t> all;
  for (const auto* part : {&a.train, &a.valid, &a.test}) {
    CHECK(std::is_sorted(part->begin(), part->end()));
    all.insert(part->begin(), part->end());
  }
  CHECK(all.size() == 1000);  // disjoint and complete

  auto again = split_rows(1000, 0.05, 0.1, 1);
  CHECK(again.valid == a.valid);
  CHECK(again.test == a.test);
  CHECK(split_rows(1000, 0.05, 0.1, 2).valid != a.valid);
  // A file sorted by label (three blocks) still lends every block to the held-out rows.
  auto in_block = [&](std::int64_t block) {
    return std::count_if(a.test.begin(), a.test.end(),
                         [&](std::int64_t row) { return row / 334 == block; });
  };
  for (std::int64_t block = 0; block < 3; ++block) CHECK(in_block(block) > 10);
  // No fractions: every row trains.
  CHECK(split_rows(5, 0, 0, 1).train.size() == 5);
}

TEST_CASE("seq2seq pairs: the task holds out valid and test rows of the pairs file", "[seq2seq]") {
  TempDir dir;
  std::string text = "Q\tA\tlabel\n";
  for (int i = 0; i < 40; ++i) {
    text += "질문 " + std::to_string(i) + "\t대답 " + std::to_string(i) + "\t0\n";
  }
  Seq2SeqOptions options;
  options.pairs = dir.file("chat.tsv", text);
  options.columns = {"Q", "A"};
  options.valid_fraction = 0.1;
  options.test_fraction = 0.2;
  Seq2SeqTask task(options, context());
  lmforge::CharTokenizer tokenizer(lmforge::CharTokenizerOptions{}, lmforge::NoContext{});
  task.prepare(tokenizer, true);
  CHECK(task.eval_splits() == std::vector<std::string>{"valid", "test"});
  CHECK(task.steps_per_epoch() > 0);
  // Syllables of both columns were counted into the vocabulary.
  CHECK(tokenizer.vocabulary().contains("질"));
  CHECK(tokenizer.vocabulary().contains("답"));
}

TEST_CASE("seq2seq pairs: each bad input is one line naming its place", "[seq2seq]") {
  TempDir dir;
  const std::string path = dir.file("chat.tsv", kChat);
  const std::string short_row = dir.file("short.tsv", "Q\tA\n가\t나\n다만 하나\n");

  auto missing = refusal([&] {
    read_pair_file(path, "utf-8", {{"Q", "Answer"}, false}, "pairs", kPlace);
  });
  CHECK_THAT(missing, Catch::Contains(path + ":1") && Catch::Contains("'Answer'") &&
                          Catch::Contains("Q, A, label"));
  auto too_few = refusal([&] {
    read_pair_file(short_row, "utf-8", {{"Q", "A"}, false}, "pairs", kPlace);
  });
  CHECK_THAT(too_few, Catch::Contains(short_row + ":3") && Catch::Contains("found 1"));
  auto one_column = refusal([&] {
    read_pair_file(path, "utf-8", {{"Q"}, false}, "pairs", kPlace);
  });
  CHECK_THAT(one_column, Catch::Contains(kPlace) && Catch::Contains("two columns"));

  auto task_refusal = [&](const std::function<void(Seq2SeqOptions&)>& change) {
    Seq2SeqOptions options;
    options.pairs = path;
    options.columns = {"Q", "A"};
    change(options);
    return refusal([&] { Seq2SeqTask(options, context()); });
  };
  auto both = task_refusal([](Seq2SeqOptions& o) { o.source = o.target = "x.txt"; });
  CHECK_THAT(both, Catch::Contains(kPlace) && Catch::Contains("not both"));
  auto neither = task_refusal([](Seq2SeqOptions& o) { o.pairs.clear(); });
  CHECK_THAT(neither, Catch::Contains("give source and target"));
  auto whole = task_refusal([](Seq2SeqOptions& o) { o.valid_fraction = 1.0; });
  CHECK_THAT(whole, Catch::Contains("valid_fraction must be in [0, 1), got 1"));
  auto negative = task_refusal([](Seq2SeqOptions& o) { o.test_fraction = -0.1; });
  CHECK_THAT(negative, Catch::Contains("test_fraction must be in [0, 1), got -0.1"));
  auto sum = task_refusal([](Seq2SeqOptions& o) {
    o.valid_fraction = 0.5;
    o.test_fraction = 0.5;
  });
  CHECK_THAT(sum, Catch::Contains("valid_fraction + test_fraction must be below 1") &&
                      Catch::Contains("got 1"));
  auto with_file = task_refusal([](Seq2SeqOptions& o) {
    o.valid_fraction = 0.1;
    o.valid_source = o.valid_target = "v.txt";
  });
  CHECK_THAT(with_file, Catch::Contains("valid_fraction or valid_source"));
  for (const auto& message :
       {missing, too_few, one_column, both, neither, whole, negative, sum, with_file}) {
    CHECK(message.find('\n') == std::string::npos);
  }
}
