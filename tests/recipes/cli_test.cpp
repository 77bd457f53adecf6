// End-to-end tests of the real `lmforge` executable: one-line errors with exit codes, plugin
// discovery, the quickstart recipe's results, generation, exact resume after SIGKILL and Ctrl-C.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_process.h"
#include "support/temp_dir.h"

extern char** environ;

namespace fs = std::filesystem;

namespace {

using lmforge::test::TempDir;

using lmforge::test::Finished;
using lmforge::test::lines_of;
using lmforge::test::number;
using lmforge::test::read_file;
using lmforge::test::read_metrics;
using lmforge::test::Record;
/// A running `lmforge` with stdout/stderr going to files.
using Cli = lmforge::test::ChildProcess;

Finished run_cli(const std::vector<std::string>& args, const std::string& log_prefix) {
  return lmforge::test::run_to_end(args, log_prefix);
}

/// The last record of `split` (e.g. "test") in a metrics log.
Record last_of(const std::vector<Record>& records, const std::string& split) {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    auto s = it->find("split");
    if (s != it->end() && s->second == split) return *it;
  }
  FAIL("no '" << split << "' record in the metrics log");
  return {};
}

/// Records without the fields that measure time or memory.
std::vector<Record> without_timing(std::vector<Record> records) {
  for (auto& r : records) {
    r.erase("tokens_per_sec");
    r.erase("train_seconds");
    r.erase("peak_rss_mib");
  }
  return records;
}

std::size_t count_train_records(const std::string& metrics_path) {
  std::size_t n = 0;
  for (const auto& line : lines_of(read_file(metrics_path))) {
    n += line.find("\"split\": \"train\"") != std::string::npos;
  }
  return n;
}

/// Waits (up to a limit) until `ready()`; false if the process ended first.
template <class Ready>
bool wait_until(Cli& cli, Ready ready, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    if (cli.poll()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// A small LM recipe on generated toy-grammar data: 2 epochs, a checkpoint every 7 steps, a train
/// record every step, a validation every 40 steps, dropout (so the RNG state matters), one thread.
std::string resume_recipe(const TempDir& dir) {
  return dir.file("resume.yaml",
                  "name: resume\n"
                  "seed: 11\n"
                  "threads: 1\n"
                  "generate_data: {type: toy_grammar, sentences: 3000, seed: 5}\n"
                  "stages:\n"
                  "  - name: lm\n"
                  "    task:\n"
                  "      type: language_modeling\n"
                  "      train: ${run}/data/train.txt\n"
                  "      valid: ${run}/data/valid.txt\n"
                  "      test: ${run}/data/test.txt\n"
                  "      bptt: 10\n"
                  "    tokenizer: {type: word, lowercase: true}\n"
                  "    backbone: {type: lstm, embedding_dim: 32, hidden_size: 48, layers: 2, "
                  "dropout: 0.2}\n"
                  "    head: {type: lm, tie_weights: true}\n"
                  "    train:\n"
                  "      epochs: 2\n"
                  "      batch_size: 8\n"
                  "      optimizer: {type: adamw, lr: 3e-3, weight_decay: 0.01}\n"
                  "      schedule: {type: cosine, warmup_steps: 10}\n"
                  "      clip_grad_norm: 0.5\n"
                  "      checkpoint_every: 7\n"
                  "      eval_every: 40\n"
                  "      log_every: 1\n"
                  "      keep_checkpoints: 2\n");
}

std::string greedy_sample(const std::string& stage_dir, const std::string& log_prefix) {
  auto r = run_cli(
      {"generate", stage_dir, "--prompt", "the movie", "--max-tokens", "8", "--temperature", "0"},
      log_prefix);
  REQUIRE(r.code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("cli: a misspelt recipe option is a line naming file:line:col, exit 2", "[cli][e2e]") {
  TempDir dir;
  std::string recipe = dir.file("typo.yaml",
                                "name: typo\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: /nonexistent.txt}\n"
                                "    backbone: {type: lstm}\n"
                                "    head: lm\n"
                                "    train:\n"
                                "      epochs: 1\n"
                                "      bacth_size: 8\n");
  for (const char* command : {"run", "validate"}) {
    auto r = run_cli({command, recipe, "--out", dir.str("out")}, dir.str(command));
    INFO(command << " stderr: " << r.err);
    CHECK(r.code == 2);
    // The typo and the missing file (found by validation) in one run, in recipe order.
    auto lines = lines_of(r.err);
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[0], Catch::Contains(recipe + ":4:") && Catch::Contains("/nonexistent.txt"));
    CHECK_THAT(lines[1], Catch::Contains(recipe + ":9:7"));
    CHECK_THAT(lines[1], Catch::Contains("bacth_size"));
    CHECK_THAT(lines[1], Catch::Contains("did you mean 'batch_size'?"));
    CHECK(lines[2] == "lmforge: 2 errors");
    CHECK_FALSE(fs::exists(dir.path / "out" / "typo"));  // nothing was started
  }

  // The same for a plugin's option (checked against the loaded plugin's declaration) and a
  // missing data file (exit 2 too, naming the option).
  std::string plugin_typo =
      dir.file("plugin_typo.yaml",
               "name: typo2\n"
               "stages:\n"
               "  - name: s\n"
               "    task: {type: language_modeling, train: /nonexistent.txt}\n"
               "    backbone: {type: lstm, hiden_size: 8}\n"
               "    head: lm\n");
  auto r = run_cli({"validate", plugin_typo}, dir.str("plugin_typo"));
  INFO(r.err);
  CHECK(r.code == 2);
  // Both of its mistakes at once, in recipe order (the missing file on line 4, the plugin option
  // on line 5), then a count.
  auto plugin_lines = lines_of(r.err);
  REQUIRE(plugin_lines.size() == 3);
  CHECK_THAT(plugin_lines[0],
             Catch::Contains(plugin_typo + ":4:") && Catch::Contains("/nonexistent.txt"));
  CHECK_THAT(plugin_lines[1], Catch::Contains(plugin_typo + ":5:28") &&
                                  Catch::Contains("did you mean 'hidden_size'?"));
  CHECK(plugin_lines[2] == "lmforge: 2 errors");

  std::string missing = dir.file("missing.yaml",
                                 "name: typo3\n"
                                 "stages:\n"
                                 "  - name: s\n"
                                 "    task: {type: language_modeling, train: /nonexistent.txt}\n"
                                 "    backbone: {type: lstm}\n"
                                 "    head: lm\n");
  auto m = run_cli({"validate", missing}, dir.str("missing"));
  INFO(m.err);
  CHECK(m.code == 2);
  REQUIRE(lines_of(m.err).size() == 1);
  CHECK_THAT(m.err, Catch::Contains("task.train"));
  CHECK_THAT(m.err, Catch::Contains("/nonexistent.txt"));

  // Command-line mistakes are usage errors too.
  auto unknown = run_cli({"rnu"}, dir.str("rnu"));
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("did you mean 'run'?"));
  auto override_typo = run_cli({"validate", recipe, "stages.nope.train.epochs=1"}, dir.str("ov"));
  CHECK(override_typo.code == 2);
  CHECK(lines_of(override_typo.err).size() == 1);
}

TEST_CASE("cli: a recipe with three independent mistakes prints three located errors in one run",
          "[cli][e2e]") {
  TempDir dir;
  std::string data = dir.file("train.txt", "a b c\n");
  std::string recipe = dir.file("three.yaml",
                                "name: three\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: " +
                                    data +
                                    ", bptt: abc}\n"
                                    "    backbone: {type: lstm, hidden_sise: 8, layers: 0}\n"
                                    "    head: {type: lm}\n"
                                    "    train: {epochs: 1, metrics: [kappa]}\n");
  for (const char* command : {"validate", "run"}) {
    auto r = run_cli({command, recipe, "--out", dir.str("out")}, dir.str(command));
    INFO(command << " stderr: " << r.err);
    CHECK(r.code == 2);
    auto lines = lines_of(r.err);
    REQUIRE(lines.size() == 5);
    // Each at its own file:line:col, in recipe order (the metric at its stage's place).
    CHECK_THAT(lines[0], Catch::Contains(recipe + ":3:") &&
                             Catch::Contains("unknown metric 'kappa'") &&
                             Catch::Contains("cohen_kappa"));
    CHECK_THAT(lines[1], Catch::Contains(recipe + ":4:") && Catch::Contains("bptt") &&
                             Catch::Contains("got 'abc'"));
    CHECK_THAT(lines[2], Catch::Contains(recipe + ":5:") && Catch::Contains("hidden_sise") &&
                             Catch::Contains("did you mean 'hidden_size'?"));
    CHECK_THAT(lines[3], Catch::Contains(recipe + ":5:") && Catch::Contains("layers") &&
                             Catch::Contains("greater than 0"));
    CHECK(lines[4] == "lmforge: 4 errors");
    CHECK_FALSE(fs::exists(dir.path / "out" / "three"));
  }
  // A top-level typo lists `stages` among the known keys and suggests it.
  std::string top = dir.file("top.yaml", "name: top\nstagse: []\n");
  auto t = run_cli({"validate", top}, dir.str("top"));
  CHECK(t.code == 2);
  CHECK_THAT(t.err, Catch::Contains("unknown option 'stagse'") &&
                        Catch::Contains("did you mean 'stages'?"));
}

TEST_CASE(
    "cli: mistakes in the recipe's own keys and in what only validation finds come in one run",
    "[cli][e2e]") {
  // epochs: 0 is a `train:` value, the scalar `freeze: abc` a list given as a scalar; the missing
  // file, the filter width 0 and the layer group backbone.7 are found by validation, which
  // builds the components. All five in one run, for validate and run alike.
  TempDir dir;
  std::string recipe = dir.file("mixed.yaml",
                                "name: mixed\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: classification, train: missing.tsv}\n"
                                "    backbone: {type: cnn, filter_widths: [3, 0]}\n"
                                "    head: classifier\n"
                                "    train: {epochs: 0, freeze: abc}\n"
                                "  - name: t\n"
                                "    task: {type: classification, train: missing.tsv}\n"
                                "    backbone: {type: cnn}\n"
                                "    head: classifier\n"
                                "    train: {freeze: [backbone.7]}\n");
  for (const char* command : {"validate", "run"}) {
    auto r = run_cli({command, recipe, "--out", dir.str("out")}, dir.str(command));
    INFO(command << " stderr: " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(recipe + ":4:") && Catch::Contains("missing.tsv"));
    CHECK_THAT(r.err, Catch::Contains(recipe + ":5:") && Catch::Contains("filter_widths[1]") &&
                          Catch::Contains("greater than 0"));
    CHECK_THAT(r.err, Catch::Contains(recipe + ":7:") && Catch::Contains("epochs"));
    CHECK_THAT(r.err, Catch::Contains(recipe + ":7:") &&
                          Catch::Contains("'freeze' expects a list, got 'abc'; write [abc]"));
    CHECK_THAT(r.err, Catch::Contains("backbone.7' names no layer group"));
    CHECK_THAT(r.err, Catch::Contains("lmforge: 6 errors"));
    CHECK_FALSE(fs::exists(dir.path / "out" / "mixed"));
  }
}

TEST_CASE("cli: generate refuses --num-samples below 1 in one line", "[cli][e2e]") {
  TempDir dir;
  for (const char* samples : {"0", "-3"}) {
    auto r = run_cli({"generate", dir.str("nowhere"), "--num-samples", samples},
                     dir.str(std::string("samples") + samples));
    CHECK(r.code != 0);
    REQUIRE(lines_of(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::Contains("--num-samples"));
  }
}

TEST_CASE("cli: plugins lists the lstm backbone and the lm head from their own files",
          "[cli][e2e]") {
  TempDir dir;
  auto r = run_cli({"plugins"}, dir.str("plugins"));
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  std::map<std::string, std::string> from;  // "kind name" -> FROM column
  for (const auto& line : lines_of(r.out)) {
    std::stringstream s(line);
    std::string kind, name, source;
    s >> kind >> name >> source;
    from[kind + " " + name] = source;
  }
  REQUIRE(from.count("backbone lstm"));
  REQUIRE(from.count("head lm"));
  REQUIRE(from.count("head classifier"));
  CHECK_THAT(from["backbone lstm"], Catch::EndsWith(".so"));
  CHECK_THAT(from["head lm"], Catch::EndsWith(".so"));
  CHECK(from["backbone lstm"] != from["head lm"]);
  CHECK(from["tokenizer word"] == "built-in");
  // Tasks are plugins like backbones and heads; metrics too.
  CHECK(from["task language_modeling"] == "lmforge_language_modeling.so");
  CHECK(from["task classification"] == "lmforge_classification.so");
  CHECK(from["metric cohen_kappa"] == "lmforge_cohen_kappa.so");
  // The recipe's own sections are documented beside the components.
  CHECK(from["recipe train"] == "built-in");
  // Columns fit their longest entry: every summary starts where the header's SUMMARY does, after
  // at least one space.
  const auto rows = lines_of(r.out);
  REQUIRE_FALSE(rows.empty());
  const auto summary_at = rows.front().find("SUMMARY");
  REQUIRE(summary_at != std::string::npos);
  for (const auto& line : rows) {
    INFO(line);
    REQUIRE(line.size() > summary_at);
    CHECK(line[summary_at - 1] == ' ');
    CHECK(line[summary_at] != ' ');
  }

  // --describe documents a plugin's options with defaults and constraints.
  auto d = run_cli({"plugins", "--describe", "lstm"}, dir.str("describe"));
  INFO(d.out << d.err);
  REQUIRE(d.code == 0);
  CHECK_THAT(d.out, Catch::Contains("backbone 'lstm'"));
  CHECK_THAT(d.out, Catch::Contains("hidden_size"));
  CHECK_THAT(d.out, Catch::Contains("> 0"));
  auto unknown = run_cli({"plugins", "--describe", "lstn"}, dir.str("describe_typo"));
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("did you mean 'lstm'?"));
  // One name for the schedule kind everywhere, and a wrong kind is named as such.
  auto schedule = run_cli({"plugins", "--describe", "cosine", "--kind", "schedule"},
                          dir.str("describe_schedule"));
  CHECK(schedule.code == 0);
  CHECK_THAT(schedule.out, Catch::Contains("schedule 'cosine'"));
  auto wrong_kind =
      run_cli({"plugins", "--describe", "cosine", "--kind", "backbone"}, dir.str("describe_kind"));
  CHECK(wrong_kind.code == 2);
  CHECK_THAT(wrong_kind.err, Catch::Contains("'cosine' is a schedule, not a backbone") &&
                                 Catch::Contains("--kind schedule"));
  auto train = run_cli({"plugins", "--describe", "train"}, dir.str("describe_train"));
  CHECK(train.code == 0);
  CHECK_THAT(train.out, Catch::Contains("recipe 'train'") && Catch::Contains("batch_size") &&
                            Catch::Contains("metrics"));

  // A plugin directory with a broken plugin in it: one line, exit 3.
  auto broken = run_cli({"plugins", "--plugin-path",
                         std::string(LMFORGE_TEST_PLUGIN_DIR) + "/test_plugin_wrong_abi.so"},
                        dir.str("broken"));
  INFO(broken.err);
  CHECK(broken.code == 3);
  CHECK(lines_of(broken.err).size() == 1);
  CHECK_THAT(broken.err, Catch::Contains("ABI 999"));
  // And a good extra plugin shows up with its file.
  auto good = run_cli({"plugins", "--plugin-path",
                       std::string(LMFORGE_TEST_PLUGIN_DIR) + "/test_plugin_good_tokenizer.so"},
                      dir.str("good"));
  REQUIRE(good.code == 0);
  CHECK_THAT(good.out, Catch::Contains("test_plugin_good_tokenizer.so"));
}

TEST_CASE("cli: the quickstart recipe learns, fine-tunes and generates", "[cli][e2e][slow]") {
  TempDir dir;
  std::string recipe = std::string(LMFORGE_SOURCE_DIR) + "/recipes/quickstart.yaml";
  auto r = run_cli({"run", recipe, "--out", dir.str("out")}, dir.str("quickstart"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  fs::path run = dir.path / "out" / "quickstart";
  CHECK(fs::exists(run / "recipe.yaml"));
  for (const char* stage : {"pretrain", "classify", "classify_from_scratch"}) {
    CHECK(fs::exists(run / stage / "done"));
  }

  auto pretrain = read_metrics((run / "pretrain" / "metrics.jsonl").string());
  Record test = last_of(pretrain, "test");
  double ppl = number(test, "ppl");
  double unigram = number(test, "unigram_ppl");
  INFO("test ppl " << ppl << ", unigram ppl " << unigram);
  CHECK(ppl < 0.5 * unigram);
  CHECK(ppl > 1.0);

  std::map<std::string, double> accuracy_of;
  for (const char* stage : {"classify", "classify_from_scratch"}) {
    auto metrics = read_metrics((run / stage / "metrics.jsonl").string());
    accuracy_of[stage] = number(last_of(metrics, "test"), "accuracy");
    INFO(stage << " test accuracy " << accuracy_of[stage]);
    CHECK(accuracy_of[stage] > 0.6);
  }
  // The point of the recipe: with 100 labels the pre-trained body beats the same body trained
  // from scratch (0.868 vs 0.847 when this was written; Bayes-optimal is 0.9145).
  INFO("pre-trained " << accuracy_of["classify"] << ", from scratch "
                      << accuracy_of["classify_from_scratch"]);
  CHECK(accuracy_of["classify"] > accuracy_of["classify_from_scratch"]);
  // The summary prints the majority-class baseline; the fine-tuned classifier beats it.
  auto summary = r.out.find("classify: test accuracy ");
  REQUIRE(summary != std::string::npos);
  auto baseline_at = r.out.find("majority-class baseline ", summary);
  REQUIRE(baseline_at != std::string::npos);
  double baseline = std::stod(r.out.substr(baseline_at + 24));
  double accuracy = std::stod(r.out.substr(summary + 24));
  CHECK(accuracy > baseline + 0.1);

  // Generation: text after the prompt, the same for the same seed.
  std::string stage = (run / "pretrain").string();
  auto sample = [&](const std::string& seed, const std::string& name) {
    auto g =
        run_cli({"generate", stage, "--prompt", "the movie", "--max-tokens", "5", "--seed", seed},
                dir.str(name));
    INFO(g.err);
    REQUIRE(g.code == 0);
    return g.out;
  };
  std::string first = sample("1", "gen1");
  INFO("generated: " << first);
  CHECK_THAT(first, Catch::StartsWith("the movie "));
  CHECK(first.size() > std::string("the movie \n").size());
  CHECK(sample("1", "gen1b") == first);
  std::set<std::string> different{first};
  for (const char* seed : {"2", "3"}) different.insert(sample(seed, "gen_other"));
  CHECK(different.size() > 1);  // the seed matters
  // --num-samples: several continuations decoded as one batch, each under its own header; greedy
  // rows are the single greedy sample, sampled row i is the sample of seed + i - 1.
  auto batch = run_cli({"generate", stage, "--prompt", "the movie", "--max-tokens", "5", "--seed",
                        "1", "--num-samples", "3"},
                       dir.str("gen_batch"));
  INFO(batch.err);
  REQUIRE(batch.code == 0);
  CHECK(batch.out == "--- sample 1 of 3 ---\n" + first + "--- sample 2 of 3 ---\n" +
                         sample("2", "gen_seed2") + "--- sample 3 of 3 ---\n" +
                         sample("3", "gen_seed3"));
  // A run directory (not a stage) picks its last stage with a checkpoint; a bad one is one line.
  auto bad = run_cli({"generate", dir.str("nowhere"), "--prompt", "x"}, dir.str("gen_bad"));
  CHECK(bad.code != 0);
  CHECK(lines_of(bad.err).size() == 1);
}

TEST_CASE("cli: a run killed mid-epoch resumes to exactly the uninterrupted metrics",
          "[cli][e2e][resume][slow]") {
  TempDir dir;
  std::string recipe = resume_recipe(dir);
  // A: uninterrupted.
  auto a = run_cli({"run", recipe, "--out", dir.str("a")}, dir.str("a"));
  INFO(a.err);
  REQUIRE(a.code == 0);
  fs::path stage_a = dir.path / "a" / "resume" / "lm";
  auto metrics_a = read_metrics((stage_a / "metrics.jsonl").string());
  std::size_t train_records = 0;
  for (const auto& m : metrics_a) train_records += m.count("split") && m.at("split") == "train";
  REQUIRE(train_records >= 100);  // log_every 1: one per step

  // B: SIGKILLed twice (in the first and in the second epoch), resumed each time.
  fs::path stage_b = dir.path / "b" / "resume" / "lm";
  std::string metrics_b = (stage_b / "metrics.jsonl").string();
  fs::path latest = stage_b / "checkpoints" / "latest";
  std::vector<std::size_t> kill_after{train_records / 4, train_records * 3 / 4};
  for (std::size_t k = 0; k < kill_after.size(); ++k) {
    std::vector<std::string> args{"run", recipe, "--out", dir.str("b")};
    if (k > 0) args.push_back("--resume");
    Cli b(args, dir.str("b" + std::to_string(k)));
    bool reached = wait_until(
        b, [&] { return fs::exists(latest) && count_train_records(metrics_b) >= kill_after[k]; });
    INFO("stdout: " << b.out() << "\nstderr: " << b.err());
    REQUIRE(reached);  // still running at the kill point
    b.signal(SIGKILL);
    CHECK(b.wait() == 128 + SIGKILL);
    CHECK_FALSE(fs::exists(stage_b / "done"));
  }
  auto resumed = run_cli({"run", recipe, "--out", dir.str("b"), "--resume"}, dir.str("b_final"));
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK_THAT(resumed.out, Catch::Contains("resuming from"));
  CHECK(fs::exists(stage_b / "done"));

  auto metrics_resumed = read_metrics(metrics_b);
  REQUIRE(metrics_resumed.size() == metrics_a.size());
  auto expected = without_timing(metrics_a);
  auto actual = without_timing(metrics_resumed);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("record " << i);
    CHECK(actual[i] == expected[i]);
  }
  // The final weights agree too: greedy samples from both runs are the same text.
  CHECK(greedy_sample(stage_b.string(), dir.str("sample_b")) ==
        greedy_sample(stage_a.string(), dir.str("sample_a")));
  // A finished run resumed again does no more work and keeps its log.
  auto again = run_cli({"run", recipe, "--out", dir.str("b"), "--resume"}, dir.str("b_again"));
  REQUIRE(again.code == 0);
  CHECK_THAT(again.out, Catch::Contains("already finished"));
  CHECK(read_metrics(metrics_b).size() == metrics_a.size());
}

TEST_CASE("cli: Ctrl-C checkpoints and exits 130, then --resume finishes the run",
          "[cli][e2e][resume][slow]") {
  TempDir dir;
  std::string recipe = resume_recipe(dir);
  fs::path stage = dir.path / "out" / "resume" / "lm";
  std::string metrics = (stage / "metrics.jsonl").string();
  std::size_t interrupted_at = 0;
  {
    Cli run({"run", recipe, "--out", dir.str("out")}, dir.str("interrupted"));
    bool started = wait_until(run, [&] { return count_train_records(metrics) >= 20; });
    INFO("stdout: " << run.out() << "\nstderr: " << run.err());
    REQUIRE(started);
    run.signal(SIGINT);
    int code = run.wait();
    CHECK(code == 130);
    auto err = lines_of(run.err());
    REQUIRE(err.size() == 1);
    CHECK_THAT(err[0], Catch::Contains("interrupted"));
    CHECK_THAT(err[0], Catch::Contains("--resume"));
    interrupted_at = count_train_records(metrics);
  }
  REQUIRE(fs::exists(stage / "checkpoints" / "latest"));
  CHECK_FALSE(fs::exists(stage / "done"));
  // The checkpoint is at the step where the run stopped, not at an earlier periodic one.
  std::string latest = read_file((stage / "checkpoints" / "latest").string());
  CHECK_THAT(latest, Catch::Contains(std::to_string(interrupted_at)));

  auto resumed = run_cli({"run", recipe, "--out", dir.str("out"), "--resume"}, dir.str("resumed"));
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK_THAT(resumed.out, Catch::Contains("resuming from"));
  CHECK(fs::exists(stage / "done"));
  auto records = read_metrics(metrics);
  Record test = last_of(records, "test");
  CHECK(number(test, "ppl") < number(test, "unigram_ppl"));

  // Interrupted + resumed equals uninterrupted.
  auto reference = run_cli({"run", recipe, "--out", dir.str("ref")}, dir.str("ref"));
  REQUIRE(reference.code == 0);
  auto expected = without_timing(read_metrics((dir.path / "ref/resume/lm/metrics.jsonl").string()));
  auto actual = without_timing(records);
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("record " << i);
    CHECK(actual[i] == expected[i]);
  }
}
