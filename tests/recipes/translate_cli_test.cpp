// `lmforge run` on a seq2seq recipe and `lmforge translate`, end to end on generated toy data
// (copy short symbol sequences), and the bad inputs of the issue: parallel files of different
// lengths, an empty line pair, a sentence over max_length, translate on a run that does not
// translate, a beam of 0 — each one line and exit 2; pairs read from one tab-separated file with
// held-out fractions and printed samples, and its bad inputs.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_process.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

using lmforge::test::Finished;
using lmforge::test::lines_of;
using lmforge::test::TempDir;

Finished run_cli(const std::vector<std::string>& args, const std::string& log_prefix) {
  return lmforge::test::run_to_end(args, log_prefix);
}

/// `lines` sequences of 3 to 5 symbols from a 6-letter alphabet.
std::string symbol_lines(int lines, unsigned seed) {
  std::mt19937 rng(seed);
  std::ostringstream out;
  for (int i = 0; i < lines; ++i) {
    const int length = 3 + static_cast<int>(rng() % 3);
    for (int j = 0; j < length; ++j) out << (j ? " " : "") << static_cast<char>('a' + rng() % 6);
    out << "\n";
  }
  return out.str();
}

std::string recipe(const TempDir& dir, const std::string& name, const std::string& source,
                   const std::string& target, const std::string& extra = "") {
  return dir.file(name + ".yaml",
                  "name: " + name +
                      "\n"
                      "seed: 3\n"
                      "threads: 1\n"
                      "stages:\n"
                      "  - name: s\n"
                      "    task: {type: seq2seq, source: " +
                      source + ", target: " + target + ", valid_source: " + source +
                      ", valid_target: " + target + ", max_length: 12, label_smoothing: 0.0" +
                      extra +
                      "}\n"
                      "    tokenizer: {type: word, split: whitespace}\n"
                      "    backbone: {type: encoder_decoder, layers: 1, heads: 2, width: 32, "
                      "ff_width: 64, dropout: 0.0, max_positions: 16, norm: pre}\n"
                      "    head: {type: lm, tie_weights: true}\n"
                      "    train: {epochs: 12, batch_size: 32, optimizer: {type: adam, lr: 3e-3}, "
                      "log_every: 20}\n");
}

}  // namespace

TEST_CASE("translate: a tiny copy model trains, translates and scores BLEU", "[cli][e2e][slow]") {
  TempDir dir;
  const std::string data = symbol_lines(400, 1);
  const std::string source = dir.file("train.src", data);
  const std::string target = dir.file("train.tgt", data);
  auto r = run_cli({"run", recipe(dir, "copy", source, target), "--out", dir.str("out")},
                   dir.str("run"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("valid BLEU"));

  const std::string run = dir.str("out") + "/copy";
  const std::string test_data = symbol_lines(40, 2);
  const std::string test_source = dir.file("test.src", test_data);
  for (const char* beam : {"1", "4"}) {
    auto t = run_cli({"translate", run, "--file", test_source, "--ref", test_source, "--beam", beam,
                      "--tokenize", "none"},
                     dir.str(std::string("translate") + beam));
    INFO(t.err);
    REQUIRE(t.code == 0);
    CHECK(lines_of(t.out).size() == 40);
    // "BLEU = 97.12 ..." on stderr: copying unseen sequences is learnt.
    auto at = t.err.find("BLEU = ");
    REQUIRE(at != std::string::npos);
    const double bleu = std::stod(t.err.substr(at + 7));
    CHECK(bleu > 80.0);
  }
  auto one = run_cli({"translate", run, "--text", "c a f e"}, dir.str("text"));
  INFO(one.err);
  CHECK(one.code == 0);
  CHECK(lines_of(one.out) == std::vector<std::string>{"c a f e"});

  // A beam of 0, and translate on a run whose task does not translate.
  auto zero = run_cli({"translate", run, "--text", "a b", "--beam", "0"}, dir.str("beam0"));
  CHECK(zero.code == 2);
  REQUIRE(lines_of(zero.err).size() == 1);
  CHECK_THAT(zero.err, Catch::Contains("--beam") && Catch::Contains("at least 1"));

  const std::string lm_recipe =
      dir.file("lm.yaml",
               "name: lm\nthreads: 1\nstages:\n  - name: lm\n"
               "    task: {type: language_modeling, train: " +
                   source +
                   ", bptt: 5}\n"
                   "    backbone: {type: lstm, embedding_dim: 8, hidden_size: 8}\n"
                   "    head: lm\n    train: {epochs: 1, batch_size: 4, max_steps: 2}\n");
  REQUIRE(run_cli({"run", lm_recipe, "--out", dir.str("out")}, dir.str("lm")).code == 0);
  auto not_s2s = run_cli({"translate", dir.str("out") + "/lm", "--text", "a b"}, dir.str("nots2s"));
  CHECK(not_s2s.code == 2);
  REQUIRE(lines_of(not_s2s.err).size() == 1);
  CHECK_THAT(not_s2s.err, Catch::Contains("translates"));
}

TEST_CASE("translate: bad parallel data is one line each, exit 2", "[cli][e2e]") {
  TempDir dir;
  const std::string three = dir.file("three.txt", "a b\nc d\ne f\n");
  const std::string two = dir.file("two.txt", "a b\nc d\n");
  const std::string hole = dir.file("hole.txt", "a b\n\ne f\n");
  const std::string long_line = dir.file("long.txt", "a b\nc d e f g h i j k l m n o p\ne f\n");

  auto check_one_line = [&](const std::string& name, const std::string& source,
                            const std::string& target, const std::string& extra,
                            const std::vector<std::string>& expected) {
    auto r = run_cli({"run", recipe(dir, name, source, target, extra), "--out", dir.str("out")},
                     dir.str(name));
    INFO(name << " stderr: " << r.err);
    CHECK(r.code == 2);
    auto lines = lines_of(r.err);
    REQUIRE(lines.size() == 1);
    for (const auto& part : expected) CHECK_THAT(lines[0], Catch::Contains(part));
  };
  check_one_line("counts", three, two, "", {three, "3 lines", two, "2"});
  check_one_line("empty", three, hole, "", {hole + ":2", "empty target"});
  check_one_line("long", long_line, three, "", {long_line + ":2", "max_length 12"});

  // too_long: truncate trains, with one warning counting the pairs cut.
  auto r = run_cli({"run", recipe(dir, "cut", long_line, three, ", too_long: truncate"), "--out",
                    dir.str("out"), "stages.s.train.max_steps=1", "stages.s.task.bleu=false"},
                   dir.str("cut"));
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("1 of 3 train pairs were longer than max_length 12"));
}

TEST_CASE("translate: pairs from one tab-separated file train, hold out, print samples",
          "[cli][e2e]") {
  TempDir dir;
  // A header, Korean text, and a third column the task ignores (ko-chatbot's layout).
  std::string tsv = "Q\tA\tlabel\n";
  const std::vector<std::string> words = {"가", "나", "다", "라", "마", "바"};
  std::mt19937 rng(5);
  for (int i = 0; i < 60; ++i) {
    std::string line;
    for (int j = 0; j < 3; ++j) line += (j ? " " : "") + words[rng() % words.size()];
    tsv += line + "\t" + line + "\t" + std::to_string(i % 3) + "\n";
  }
  const std::string pairs = dir.file("chat.tsv", tsv);
  auto pairs_recipe = [&](const std::string& name, const std::string& task) {
    return dir.file(name + ".yaml",
                    "name: " + name +
                        "\nseed: 3\nthreads: 1\nstages:\n  - name: s\n"
                        "    task: {type: seq2seq, " +
                        task +
                        ", max_length: 12}\n"
                        "    tokenizer: {type: word, split: whitespace}\n"
                        "    backbone: {type: encoder_decoder, layers: 1, heads: 2, width: 16, "
                        "ff_width: 32, max_positions: 16}\n"
                        "    head: {type: lm, tie_weights: true}\n"
                        "    train: {epochs: 1, batch_size: 16}\n");
  };
  auto r = run_cli({"run",
                    pairs_recipe("chat", "pairs: " + pairs +
                                             ", columns: [Q, A], valid_fraction: 0.1, "
                                             "test_fraction: 0.1, samples: 2"),
                    "--out", dir.str("out")},
                   dir.str("chat"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("seq2seq: train 48 sentence pairs") &&
                        Catch::Contains("seq2seq: valid 6 sentence pairs") &&
                        Catch::Contains("s: valid sample 2/2  reference: ") &&
                        Catch::Contains("s: test sample 1/2  source:    "));
  auto t =
      run_cli({"translate", dir.str("out") + "/chat", "--text", "가 나 다"}, dir.str("translate"));
  INFO(t.err);
  CHECK(t.code == 0);
  CHECK(lines_of(t.out).size() == 1);

  auto refused = [&](const std::string& name, const std::string& task,
                     const std::vector<std::string>& expected) {
    auto bad = run_cli({"run", pairs_recipe(name, task), "--out", dir.str("out")}, dir.str(name));
    INFO(name << " stderr: " << bad.err);
    CHECK(bad.code == 2);
    auto lines = lines_of(bad.err);
    REQUIRE(lines.size() == 1);
    for (const auto& part : expected) CHECK_THAT(lines[0], Catch::Contains(part));
  };
  refused("no_column", "pairs: " + pairs + ", columns: [Q, Answer]",
          {pairs + ":1", "'Answer'", "Q, A, label"});
  refused("both", "pairs: " + pairs + ", source: " + pairs + ", target: " + pairs,
          {"both.yaml:", "not both"});
  refused("fractions", "pairs: " + pairs + ", valid_fraction: 0.6, test_fraction: 0.4",
          {"fractions.yaml:", "below 1"});
}
