// The real `lmforge` stopped from outside: SIGTERM checkpoints and exits 143 like Ctrl-C, and the
// resumed run ends exactly like an uninterrupted one; a full disk (a file size limit) while
// checkpointing is one line and exit 1 with the previous checkpoint intact, and --resume
// recovers; --resume after the recipe changed is refused naming the changed keys, unless
// --restart-changed; a relative init.from that does not exist names the absolute path tried.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "support/cli_process.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmforge::test::ChildProcess;
using lmforge::test::lines_of;
using lmforge::test::read_file;
using lmforge::test::TempDir;

namespace {

/// A small LM: a few hundred steps over two epochs, a checkpoint every 3 steps, one thread.
std::string small_recipe(const TempDir& dir) {
  return dir.file("small.yaml",
                  "name: small\n"
                  "seed: 5\n"
                  "threads: 1\n"
                  "generate_data: {type: toy_grammar, sentences: 3000, seed: 4}\n"
                  "stages:\n"
                  "  - name: lm\n"
                  "    task:\n"
                  "      type: language_modeling\n"
                  "      train: ${run}/data/train.txt\n"
                  "      valid: ${run}/data/valid.txt\n"
                  "      test: ${run}/data/test.txt\n"
                  "      bptt: 10\n"
                  "    tokenizer: {type: word, lowercase: true}\n"
                  "    backbone: {type: lstm, embedding_dim: 32, hidden_size: 32, layers: 2,\n"
                  "               dropout: 0.1}\n"
                  "    head: {type: lm, tie_weights: true}\n"
                  "    train: {epochs: 2, batch_size: 8, checkpoint_every: 3, log_every: 50,\n"
                  "            optimizer: {type: adamw, lr: 3e-3}}\n");
}

/// Metrics lines without the timing fields, which differ between any two runs.
std::vector<std::string> results_of(const fs::path& metrics) {
  std::vector<std::string> out;
  for (const auto& line : lines_of(read_file(metrics.string()))) {
    if (line.find("\"split\": \"valid\"") != std::string::npos ||
        line.find("\"split\": \"test\"") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

/// Waits until `path` exists; false when the process ends first.
bool wait_for(ChildProcess& child, const fs::path& path) {
  for (int i = 0; i < 12000; ++i) {
    if (fs::exists(path)) return true;
    if (child.poll()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

TEST_CASE(
    "cli: SIGTERM checkpoints and exits 143, a full disk while saving keeps the previous "
    "checkpoint, and --resume ends like a full run",
    "[reliability][cli][e2e]") {
  TempDir dir("sigterm");
  const std::string recipe = small_recipe(dir);

  auto full = lmforge::test::run_to_end({"run", recipe, "--out", dir.str("full")}, dir.str("full"));
  REQUIRE(full.code == 0);
  const auto expected = results_of(dir.path / "full" / "small" / "lm" / "metrics.jsonl");
  REQUIRE(expected.size() >= 3);

  {
    // generate and init refuse a damaged part of the finished run, naming the file.
    const fs::path full_stage = dir.path / "full" / "small" / "lm";
    const std::string latest =
        lines_of(read_file((full_stage / "checkpoints" / "latest").string())).at(0);
    const fs::path part = full_stage / "checkpoints" / latest / "backbone.pt";
    std::string bytes = read_file(part.string());
    bytes[bytes.size() / 2] ^= 0x40;
    std::ofstream(part, std::ios::binary | std::ios::trunc) << bytes;
    auto generate = lmforge::test::run_to_end(
        {"generate", full_stage.string(), "--prompt", "the movie"}, dir.str("generate"));
    std::cout << "  generate: exit " << generate.code << ", " << generate.err;
    CHECK(generate.code == 2);
    CHECK_THAT(generate.err, Catch::Contains(part.string() + ": checksum mismatch"));
    CHECK(lines_of(generate.err).size() == 1);
    std::string tune =
        dir.file("tune.yaml",
                 "name: tune\nstages:\n  - name: tune\n    init: {from: " + full_stage.string() +
                     ", parts: [tokenizer, backbone]}\n    task: {type: language_modeling, "
                     "train: " +
                     (dir.path / "full" / "small" / "data" / "valid.txt").string() +
                     "}\n    head: {type: lm}\n");
    auto init = lmforge::test::run_to_end({"run", tune, "--out", dir.str("tune")}, dir.str("init"));
    std::cout << "  init: exit " << init.code << ", " << init.err;
    CHECK(init.code == 2);
    CHECK_THAT(init.err, Catch::Contains(part.string() + ": checksum mismatch"));
  }

  const fs::path stage = dir.path / "out" / "small" / "lm";
  {
    ChildProcess run({"run", recipe, "--out", dir.str("out")}, dir.str("term"));
    // The stage's directory is made after the signal handlers are installed.
    REQUIRE(wait_for(run, stage / "vocab.txt"));
    run.signal(SIGTERM);
    int code = run.wait();
    std::cout << "  SIGTERM: exit " << code << ", " << run.err();
    CHECK(code == 143);
    CHECK_THAT(run.err(), Catch::Contains("terminated (SIGTERM); checkpoint saved"));
    CHECK(lines_of(run.err()).size() == 1);
  }
  REQUIRE(fs::exists(stage / "checkpoints" / "latest"));
  const std::string latest_before = read_file((stage / "checkpoints" / "latest").string());

  {
    // A file size limit fails the checkpoint's writes as a full disk would; the shell ignores
    // SIGXFSZ so the writes fail with an error instead of killing the process.
    ChildProcess limited({"-c", "trap '' XFSZ; ulimit -f 40; exec \"$0\" \"$@\"", LMFORGE_CLI,
                          "run", recipe, "--out", dir.str("out"), "--resume"},
                         dir.str("full_disk"), {}, "/bin/sh");
    int code = limited.wait();
    std::cout << "  disk full: exit " << code << ", " << limited.err();
    CHECK(code == 1);
    CHECK(lines_of(limited.err()).size() == 1);
    CHECK_THAT(limited.err(), Catch::Contains("cannot save checkpoint") &&
                                  Catch::Contains("is intact") &&
                                  Catch::Contains("continue with --resume"));
    CHECK_THAT(limited.err(), !Catch::Contains("c10::Error") && !Catch::Contains("terminate"));
  }
  CHECK(read_file((stage / "checkpoints" / "latest").string()) == latest_before);

  auto resumed = lmforge::test::run_to_end({"run", recipe, "--out", dir.str("out"), "--resume"},
                                           dir.str("resumed"));
  REQUIRE(resumed.code == 0);
  CHECK(results_of(stage / "metrics.jsonl") == expected);
}

TEST_CASE(
    "cli: --resume after the recipe changed names the changed keys, --restart-changed "
    "starts afresh",
    "[reliability][cli][e2e]") {
  TempDir dir("changed");
  const std::string recipe = small_recipe(dir);
  const std::string out = dir.str("out");
  const std::string shorter = "stages.lm.train.max_steps=20";
  REQUIRE(lmforge::test::run_to_end({"run", recipe, "--out", out, shorter}, dir.str("a")).code ==
          0);

  auto same =
      lmforge::test::run_to_end({"run", recipe, "--out", out, shorter, "--resume"}, dir.str("b"));
  CHECK(same.code == 0);
  CHECK_THAT(same.out, Catch::Contains("lm: already finished, skipping"));

  const std::string wider = "stages.lm.backbone.hidden_size=48";
  const std::string wider_embedding = "stages.lm.backbone.embedding_dim=48";  // tied weights
  auto changed = lmforge::test::run_to_end(
      {"run", recipe, "--out", out, shorter, wider, wider_embedding, "--resume"}, dir.str("c"));
  std::cout << "  changed: exit " << changed.code << ", " << changed.err;
  CHECK(changed.code == 2);
  CHECK(lines_of(changed.err).size() == 1);
  CHECK_THAT(changed.err, Catch::Contains("stage.backbone.hidden_size: 32 -> 48") &&
                              Catch::Contains("--restart-changed"));

  auto restarted = lmforge::test::run_to_end({"run", recipe, "--out", out, shorter, wider,
                                              wider_embedding, "--resume", "--restart-changed"},
                                             dir.str("d"));
  CHECK(restarted.code == 0);
  CHECK_THAT(restarted.out,
             Catch::Contains("settings changed") && Catch::Contains("starting afresh"));
  auto again = lmforge::test::run_to_end(
      {"run", recipe, "--out", out, shorter, wider, wider_embedding, "--resume"}, dir.str("e"));
  CHECK(again.code == 0);
  CHECK_THAT(again.out, Catch::Contains("already finished"));
}

TEST_CASE("cli: a relative init.from that is no directory names the absolute path tried",
          "[reliability][cli]") {
  TempDir dir("init_from");
  std::string recipe =
      dir.file("sub/r.yaml",
               "name: r\n"
               "stages:\n"
               "  - name: tune\n"
               "    init: {from: elsewhere/pretrain, parts: [tokenizer, backbone]}\n"
               "    task: {type: language_modeling, train: " +
                   dir.file("t.txt", "a b c\n") +
                   "}\n"
                   "    head: {type: lm}\n");
  fs::create_directories(dir.path / "sub" / "elsewhere" / "pretrain");
  // Only the recipe's folder has elsewhere/pretrain, not the working directory: the message
  // names the path tried and the one that exists.
  auto r = lmforge::test::run_to_end({"validate", recipe}, dir.str("v"));
  std::cout << "  " << r.err;
  CHECK(r.code == 2);
  const std::string tried = (fs::current_path() / "elsewhere" / "pretrain").string();
  CHECK_THAT(r.err, Catch::Contains("looked for " + tried));
  CHECK_THAT(r.err,
             Catch::Contains((dir.path / "sub" / "elsewhere" / "pretrain").string() + " exists"));
}
