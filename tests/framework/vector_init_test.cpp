// Pre-trained vectors as initialisation (issue 12): GloVe's header-less text format and its bad
// rows, each vocabulary word's vector landing on its own id (as written or by case), missing rows
// on the found vectors' scale, a width mismatch refused with both sizes, and a frozen embedding
// that training leaves exactly as loaded while an unfrozen one moves.
#include "init/vector_init.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lmforge/embeddings.h"
#include "lmforge/error.h"
#include "models/cnn/cnn.h"
#include "recipe/recipe.h"
#include "recipe/run_recipe.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"
#include "train/stage_artifacts.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using lmforge::test::TempDir;

namespace {

std::string glove_text() {
  return "the 0.5 -1 2\n"
         "Cat 1.5 2.5 -3.5\n"
         "dog 4 5 6\n";
}

std::string read_error(const std::function<void()>& load) {
  try {
    load();
  } catch (const lmforge::Error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("vector init: GloVe text is read without a header, bad rows are named", "[vectors]") {
  TempDir dir("glove_read");
  auto vectors = lmforge::WordVectors::load_glove(dir.file("v.txt", glove_text()));
  CHECK(vectors.vectors().size(1) == 3);
  CHECK(vectors.vocabulary().contains("Cat"));
  auto cat = vectors.vectors()[vectors.vocabulary().id("Cat")];
  CHECK(torch::equal(cat, torch::tensor({1.5f, 2.5f, -3.5f})));

  auto glove_error = [&](const std::string& text) {
    const std::string path = dir.file("bad.txt", text);
    return read_error([&] { lmforge::WordVectors::load_glove(path); });
  };
  CHECK_THAT(glove_error("a 1 2 3\nb 1 2\n"),
             Contains("bad.txt:2") && Contains("expected a word and 3 numbers, got 2"));
  CHECK_THAT(glove_error("a 1 2 3\nb 1 x 3\n"),
             Contains("bad.txt:2") && Contains("'x' is not a number"));
  CHECK_THAT(glove_error("3 100\na 1 2 3\n"),
             Contains("bad.txt:1") && Contains("word2vec header") && Contains("format: word2vec"));
  CHECK_THAT(glove_error(""), Contains("empty file"));
  // word2vec text read as word2vec: its header must say "V D".
  const std::string headerless = dir.file("w2v.txt", glove_text());
  CHECK_THAT(read_error([&] { lmforge::WordVectors::load_word2vec(headerless, false); }),
             Contains("w2v.txt:1") && Contains("expected a word2vec header"));
}

TEST_CASE("vector init: rows land on their vocabulary ids, widths must agree", "[vectors]") {
  TempDir dir("glove_fill");
  auto vectors = lmforge::WordVectors::load_glove(dir.file("v.txt", glove_text()));
  lmforge::Vocabulary vocabulary;
  const auto dog = vocabulary.add("dog");
  const auto cat = vocabulary.add("cat");  // "Cat" in the file: found by case
  const auto owl = vocabulary.add("owl");  // not in the file
  const auto the = vocabulary.add("the");
  lmforge::CnnOptions options;
  options.embedding_dim = 3;
  options.filter_widths = {1};
  options.feature_maps = 2;
  lmforge::CnnBackbone body(options, {vocabulary.size(), lmforge::Vocabulary::kPad});
  const auto pad_row = body.input_embedding()[lmforge::Vocabulary::kPad].clone();
  auto coverage = lmforge::fill_input_embedding(body, vocabulary, vectors, "r.yaml:4:5");
  CHECK(coverage.words == 4);
  CHECK(coverage.exact == 2);
  CHECK(coverage.folded == 1);
  auto table = body.input_embedding();
  CHECK(torch::equal(table[dog], torch::tensor({4.f, 5.f, 6.f})));
  CHECK(torch::equal(table[cat], torch::tensor({1.5f, 2.5f, -3.5f})));
  CHECK(torch::equal(table[the], torch::tensor({0.5f, -1.f, 2.f})));
  CHECK(table[owl].abs().max().item<double>() <= coverage.missing_bound);
  CHECK(torch::equal(table[lmforge::Vocabulary::kPad], pad_row));
  CHECK_THAT(lmforge::describe(coverage),
             Contains("3 of 4 vocabulary words found") && Contains("1 missing rows drawn uniform"));

  options.embedding_dim = 5;
  lmforge::CnnBackbone wide(options, {vocabulary.size(), lmforge::Vocabulary::kPad});
  CHECK_THAT(
      read_error([&] { lmforge::fill_input_embedding(wide, vocabulary, vectors, "r.yaml:4:5"); }),
      Contains("r.yaml:4:5 init.vectors") && Contains("the vectors are 3 wide") &&
          Contains("input embedding is 5 wide"));
}

namespace {

void write_data(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream train(dir / "train.tsv", std::ios::binary);
  const std::vector<std::string> animals{"cat", "dog"}, tools{"saw", "drill"};
  for (int i = 0; i < 40; ++i) {
    train << (i % 2 ? "animal\tthe " + animals[i % 4 / 2] + " sleeps here"
                    : "tool\tthe " + tools[i % 4 / 2] + " works here")
          << "\n";
  }
  std::ofstream vectors(dir / "vectors.txt", std::ios::binary);
  vectors << "the 0.1 0.2 0.3 0.4\ncat 1 0 0 0\ndog 0.9 0.1 0 0\nsaw 0 0 1 0\n"
             "drill 0 0 0.9 0.1\nhere -0.1 0.1 -0.1 0.1\n";
}

torch::Tensor trained_embedding(const TempDir& dir, const std::string& freeze) {
  lmforge::RecipeContext context;
  context.data_dir = (dir.path / "data").string();
  context.out_dir = (dir.path / "runs").string();
  const std::string text =
      "name: vec\n"
      "seed: 1\n"
      "threads: 1\n"
      "stages:\n"
      "  - name: cnn\n"
      "    init: {vectors: '" +
      (dir.path / "data" / "vectors.txt").string() + "', format: glove, freeze: " + freeze +
      "}\n"
      "    task: {type: classification, format: tsv, train: '${data}/train.tsv'}\n"
      "    backbone: {type: cnn, embedding_dim: 4, filter_widths: [1, 2], feature_maps: 4,\n"
      "               dropout: 0}\n"
      "    head: {type: classifier, pooling: first, dropout: 0}\n"
      "    train: {epochs: 3, batch_size: 8, log_every: 1000, optimizer: {type: adam, lr: 0.05}}\n";
  auto recipe = lmforge::load_recipe(dir.file("recipe.yaml", text), context);
  lmforge::run_recipe(recipe, {});
  auto stage = lmforge::load_stage((dir.path / "runs" / "vec" / "cnn").string());
  const auto& vocabulary = stage.tokenizer->vocabulary();
  auto table = stage.model->backbone().input_embedding().detach();
  return torch::stack({table[vocabulary.id("cat")], table[vocabulary.id("saw")]});
}

}  // namespace

TEST_CASE("vector init: frozen rows do not change, unfrozen ones train", "[vectors][slow]") {
  lmforge::test::load_build_plugins();
  const auto loaded = torch::tensor({{1.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 1.f, 0.f}});
  {
    TempDir dir("vec_frozen");
    write_data(dir.path / "data");
    CHECK(torch::equal(trained_embedding(dir, "true"), loaded));
  }
  {
    TempDir dir("vec_trained");
    write_data(dir.path / "data");
    CHECK_FALSE(torch::equal(trained_embedding(dir, "false"), loaded));
  }
}

TEST_CASE("vector init: a missing file and a freeze without vectors are refused", "[vectors]") {
  lmforge::test::load_build_plugins();
  TempDir dir("vec_bad");
  write_data(dir.path / "data");
  lmforge::RecipeContext context;
  context.data_dir = (dir.path / "data").string();
  context.out_dir = (dir.path / "runs").string();
  auto refused = [&](const std::string& init) {
    const std::string text =
        "name: vec\n"
        "stages:\n"
        "  - name: cnn\n"
        "    init: " +
        init +
        "\n"
        "    task: {type: classification, format: tsv, train: '${data}/train.tsv'}\n"
        "    backbone: {type: cnn, embedding_dim: 4, filter_widths: [1], feature_maps: 2}\n"
        "    head: {type: classifier, pooling: first}\n";
    return read_error(
        [&] { lmforge::validate_recipe(lmforge::load_recipe(dir.file("r.yaml", text), context)); });
  };
  CHECK_THAT(refused("{vectors: nowhere.txt, format: glove}"),
             Contains("init.vectors") && Contains("'nowhere.txt' is neither an earlier stage"));
  CHECK_THAT(refused("{freeze: true}"), Contains("init.freeze") && Contains("give init.vectors"));
  CHECK_THAT(refused("{vectors: x.txt, format: fasttext}"), Contains("format"));
}
