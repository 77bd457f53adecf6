// Tokenizers end to end through the real `lmforge`: a sentencepiece language model trained,
// reused by a later stage and by generate/tokenize (its model saved with the run), word-level
// normalisation reloaded the same way, and one clear line with exit 2 for each bad option.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "support/cli_process.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmforge::test::Finished;
using lmforge::test::lines_of;
using lmforge::test::TempDir;

namespace {

Finished run_cli(const std::vector<std::string>& args, const std::string& log_prefix) {
  return lmforge::test::run_to_end(args, log_prefix);
}

// A tiny LM on generated toy-grammar text with the given tokenizer; a second stage reuses the
// first one's tokenizer and body.
std::string lm_recipe(const TempDir& dir, const std::string& name, const std::string& tokenizer) {
  return dir.file(name + ".yaml",
                  "name: " + name +
                      "\n"
                      "seed: 3\n"
                      "threads: 1\n"
                      "generate_data: {type: toy_grammar, sentences: 600, seed: 5}\n"
                      "stages:\n"
                      "  - name: lm\n"
                      "    task:\n"
                      "      type: language_modeling\n"
                      "      train: ${run}/data/train.txt\n"
                      "      valid: ${run}/data/valid.txt\n"
                      "      bptt: 8\n"
                      "    tokenizer: " +
                      tokenizer +
                      "\n"
                      "    backbone: {type: lstm, embedding_dim: 16, hidden_size: 16, layers: 1}\n"
                      "    head: {type: lm, tie_weights: true}\n"
                      "    train: {epochs: 1, max_steps: 6, batch_size: 4, optimizer: {type: "
                      "adamw, lr: 1e-2}}\n"
                      "  - name: again\n"
                      "    init: {from: lm, parts: [tokenizer, backbone, head]}\n"
                      "    task:\n"
                      "      type: language_modeling\n"
                      "      train: ${run}/data/valid.txt\n"
                      "      bptt: 8\n"
                      "    train: {epochs: 1, max_steps: 2, batch_size: 4, optimizer: {type: "
                      "adamw, lr: 1e-2}}\n");
}

// Runs `recipe` and expects exactly one error line containing every one of `expected`, exit 2.
void expect_refusal(const TempDir& dir, const std::string& recipe,
                    const std::vector<std::string>& expected, const std::string& log) {
  const Finished r = run_cli({"run", recipe, "--out", dir.str(log + "_runs")}, dir.str(log));
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  const auto lines = lines_of(r.err);
  REQUIRE(lines.size() == 1);
  for (const std::string& part : expected) CHECK_THAT(lines[0], Catch::Contains(part));
}

}  // namespace

TEST_CASE("cli: a sentencepiece LM saves its model, reloads it, decodes readable text",
          "[cli][e2e][sentencepiece]") {
  TempDir dir("sp_cli");
  const std::string recipe =
      lm_recipe(dir, "sp", "{type: sentencepiece, vocab_size: 90, character_coverage: 1.0}");
  const Finished r = run_cli({"run", recipe, "--out", dir.str("runs")}, dir.str("run"));
  const fs::path run = dir.path / "runs" / "sp";  // --out holds one folder per recipe name
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("sentencepiece: trained a unigram model of 90 pieces"));
  CHECK(fs::exists(run / "lm" / "vocab.sentencepiece.model"));
  // The second stage took the tokenizer from the first and saved the model again with itself.
  CHECK(fs::exists(run / "again" / "vocab.sentencepiece.model"));
  CHECK(lmforge::test::read_file((run / "again" / "vocab.txt").string()) ==
        lmforge::test::read_file((run / "lm" / "vocab.txt").string()));

  const Finished t =
      run_cli({"tokenize", run.string(), "--text", "the movie was good"}, dir.str("tokenize"));
  INFO(t.err);
  REQUIRE(t.code == 0);
  CHECK_THAT(t.out, Catch::Contains("sentencepiece"));
  CHECK_THAT(t.out, Catch::Contains("[\xE2\x96\x81"));  // pieces show sentencepiece's ▁
  CHECK_THAT(t.out, Catch::Contains("decoded: the movie was good"));

  const Finished g = run_cli({"generate", (run / "lm").string(), "--prompt", "the movie",
                              "--max-tokens", "30", "--seed", "2"},
                             dir.str("generate"));
  INFO(g.err);
  REQUIRE(g.code == 0);
  CHECK_THAT(g.out, Catch::StartsWith("the movie"));
  CHECK_THAT(g.out, !Catch::Contains("\xE2\x96\x81"));  // no ▁ in generated text
  CHECK_THAT(g.out, !Catch::Contains("\xE2\x8F\x8E"));  // real line breaks by default
  const Finished one = run_cli({"generate", (run / "lm").string(), "--prompt", "the movie",
                                "--max-tokens", "30", "--seed", "2", "--one-line"},
                               dir.str("generate_one_line"));
  REQUIRE(one.code == 0);
  CHECK(lines_of(one.out).size() == 1);
}

TEST_CASE("cli: word normalisation reloads with the run; tokenize shows it",
          "[cli][e2e][normalization]") {
  TempDir dir("norm_cli");
  const std::string recipe =
      lm_recipe(dir, "norm",
                "{type: word, lowercase: true, stopwords: english, lemma: english, stem: porter}");
  const Finished r = run_cli({"run", recipe, "--out", dir.str("runs")}, dir.str("run"));
  const fs::path run = dir.path / "runs" / "norm";
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(fs::exists(run / "lm" / "vocab.word-pipeline.txt"));
  const Finished t = run_cli(
      {"tokenize", (run / "lm").string(), "--text", "The movies WERE boring"}, dir.str("tokenize"));
  INFO(t.err);
  REQUIRE(t.code == 0);
  // "the" and "were" are stop words; movies -> movie (lemma) -> movi (Porter); boring -> bore.
  CHECK_THAT(t.out, Catch::Contains("tokens:  [movi] [bore]"));
}

TEST_CASE("cli: bad tokenizer options are one line naming the option, exit 2",
          "[cli][e2e][sentencepiece]") {
  TempDir dir("tok_bad");
  // Caught by the option declarations before anything runs: the recipe's file:line:col.
  const std::string unknown_type =
      lm_recipe(dir, "unknown_type", "{type: sentencepiece, model_type: wordpiece}");
  const Finished v = run_cli({"validate", unknown_type}, dir.str("validate"));
  CHECK(v.code == 2);
  CHECK(lines_of(v.err).size() == 1);
  CHECK_THAT(v.err, Catch::Contains("unknown_type.yaml:") && Catch::Contains("model_type") &&
                        Catch::Contains("unigram"));
  expect_refusal(dir, lm_recipe(dir, "bad_stem", "{type: word, stem: klingon}"),
                 {"bad_stem.yaml:", "stem", "klingon"}, "bad_stem");
  // Caught when the tokenizer is built or trained.
  expect_refusal(dir, lm_recipe(dir, "too_big", "{type: sentencepiece, vocab_size: 20000}"),
                 {"option vocab_size", "20000"}, "too_big");
  expect_refusal(dir,
                 lm_recipe(dir, "no_model",
                           "{type: sentencepiece, model: '" + dir.str("missing.model") + "'}"),
                 {"option model", "missing.model"}, "no_model");
  const std::string corrupt = dir.file("corrupt.model", "not a model at all");
  expect_refusal(dir, lm_recipe(dir, "corrupt", "{type: sentencepiece, model: '" + corrupt + "'}"),
                 {"option model", "corrupt.model"}, "corrupt");
  expect_refusal(dir,
                 lm_recipe(dir, "no_stopwords",
                           "{type: word, stopwords: '" + dir.str("missing_stopwords.txt") + "'}"),
                 {"option stopwords", "missing_stopwords.txt"}, "no_stopwords");
}
