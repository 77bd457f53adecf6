// Search over texts (issue 12): a line's vector is the mean of its words' vectors (a word-vector
// run) or of the backbone's features (a sequence model); a query equal to a corpus line ranks it
// first; an empty or non-UTF-8 corpus and a query without known words are refused by name.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli.h"
#include "lmforge/error.h"
#include "recipe/recipe.h"
#include "recipe/run_recipe.h"
#include "search/text_embedding.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"
#include "train/stage_artifacts.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using lmforge::test::TempDir;

namespace {

const std::vector<std::string>& corpus_lines() {
  static const std::vector<std::string> lines{
      "the cat chases the mouse in the barn",    "a dog sleeps by the warm fire",
      "stocks fell sharply on the market today", "the team won the final match",
      "rain is expected over the hills tonight", "the mouse hides from the cat"};
  return lines;
}

/// A tiny run of `task` over the corpus; returns its stage directory.
fs::path train(const TempDir& dir, const std::string& stage_yaml) {
  fs::create_directories(dir.path / "data");
  {
    std::ofstream text(dir.path / "data" / "text.txt", std::ios::binary);
    for (int repeat = 0; repeat < 20; ++repeat) {
      for (const auto& line : corpus_lines()) text << line << "\n";
    }
    std::ofstream labelled(dir.path / "data" / "train.tsv", std::ios::binary);
    for (std::size_t i = 0; i < corpus_lines().size(); ++i) {
      for (int repeat = 0; repeat < 5; ++repeat) {
        labelled << (i < 2 || i == 5 ? "animal" : "other") << "\t" << corpus_lines()[i] << "\n";
      }
    }
  }
  lmforge::RecipeContext context;
  context.data_dir = (dir.path / "data").string();
  context.out_dir = (dir.path / "runs").string();
  auto recipe = lmforge::load_recipe(
      dir.file("recipe.yaml", "name: s\nseed: 1\nthreads: 1\nstages:\n" + stage_yaml), context);
  lmforge::run_recipe(recipe, {});
  return dir.path / "runs" / "s" / "m";
}

void each_line_finds_itself(const fs::path& stage_dir, const std::string& expected_method) {
  lmforge::LoadedStage stage = lmforge::load_stage(stage_dir.string());
  lmforge::TextEmbedder embedder(stage);
  CHECK(embedder.method() == expected_method);
  torch::Tensor corpus = embedder.embed(corpus_lines());
  REQUIRE(corpus.size(0) == static_cast<std::int64_t>(corpus_lines().size()));
  for (std::size_t i = 0; i < corpus_lines().size(); ++i) {
    INFO(corpus_lines()[i]);
    auto hits = lmforge::nearest_rows(corpus, embedder.embed({corpus_lines()[i]})[0], 3);
    CHECK(hits.front().line == static_cast<std::int64_t>(i));
    CHECK(hits.front().score == Approx(1.0).epsilon(1e-5));
    CHECK(hits[1].score < hits[0].score);
  }
}

std::string refused(const std::vector<std::string>& args) {
  try {
    lmforge::cli::embed_command(args);
  } catch (const lmforge::Error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("search: word vectors and sequence features both find a line by itself",
          "[search][slow]") {
  lmforge::test::load_build_plugins();
  {
    TempDir dir("search_w2v");
    auto stage = train(dir,
                       "  - name: m\n"
                       "    task: {type: word2vec, train: '${data}/text.txt', sentences: line,\n"
                       "           window: 3, epochs: 2}\n"
                       "    tokenizer: {type: word, min_count: 1}\n"
                       "    backbone: {type: skipgram, dim: 16}\n"
                       "    head: {type: negative_sampling, negative: 3}\n"
                       "    train: {epochs: 2, log_every: 1000}\n");
    each_line_finds_itself(stage, "mean of word vectors");

    // The CLI's refusals, each one line naming the file or option.
    const std::string empty = dir.file("empty.txt", "\n  \n");
    CHECK_THAT(refused({stage.string(), "search", "--corpus", empty, "--query", "cat"}),
               Contains("empty.txt") && Contains("holds no text"));
    const std::string latin1 = dir.file("latin1.txt", "caf\xe9 au lait\n");
    CHECK_THAT(refused({stage.string(), "search", "--corpus", latin1, "--query", "cat"}),
               Contains("latin1.txt:1") && Contains("not valid UTF-8"));
    const std::string lines = dir.file("lines.txt", "the cat\nthe dog\n");
    CHECK_THAT(refused({stage.string(), "search", "--corpus", lines, "--query", "zebra"}),
               Contains("--query") && Contains("no token of 'zebra'"));
    CHECK_THAT(refused({stage.string(), "search", "--corpus", lines}),
               Contains("--query TEXT or --queries FILE"));
    CHECK_THAT(refused({stage.string(), "search", "--query", "cat"}), Contains("--corpus"));
  }
  {
    TempDir dir("search_cls");
    auto stage = train(dir,
                       "  - name: m\n"
                       "    task: {type: classification, format: tsv, train: '${data}/train.tsv'}\n"
                       "    tokenizer: {type: word, min_count: 1}\n"
                       "    backbone: {type: lstm, embedding_dim: 8, hidden_size: 12, layers: 1}\n"
                       "    head: {type: classifier, pooling: mean}\n"
                       "    train: {epochs: 1, batch_size: 8, log_every: 1000}\n");
    each_line_finds_itself(stage, "mean of backbone features");
  }
}
