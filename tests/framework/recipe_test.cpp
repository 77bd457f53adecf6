// load_recipe and validate_recipe: interpolation, command-line overrides that merge, and every kind
// of recipe mistake reported as one error naming file:line:col (or the option) and the fix.
#include "recipe/recipe.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmforge::ConfigError;
using lmforge::DataError;
using lmforge::RecipeContext;
using lmforge::RecipeSpec;

namespace {

using lmforge::test::TempDir;

/// Sets (or unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = std::string(old);
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Line numbers below are referred to by the tests: keep them in sync.
const char* kTwoStages =
    "name: tiny\n"                                                               // 1
    "seed: 5\n"                                                                  // 2
    "stages:\n"                                                                  // 3
    "  - name: pretrain\n"                                                       // 4
    "    task:\n"                                                                // 5
    "      type: language_modeling\n"                                            // 6
    "      train: ${data}/lm/train.txt\n"                                        // 7
    "      valid: ${data}/lm/valid.txt\n"                                        // 8
    "      bptt: 4\n"                                                            // 9
    "    backbone: {type: lstm, embedding_dim: 8, hidden_size: 8, layers: 1}\n"  // 10
    "    head: {type: lm, tie_weights: true}\n"                                  // 11
    "    train: {epochs: 2, batch_size: 2, log_every: 5, optimizer: {type: adamw, lr: 0.01}}\n"  // 12
    "  - name: classify\n"                                                             // 13
    "    init: {from: pretrain, parts: [tokenizer, backbone]}\n"                       // 14
    "    task: {type: classification, format: tsv, train: '${data}/cls/train.tsv'}\n"  // 15
    "    head: {type: classifier, pooling: mean}\n"                                    // 16
    "    train: {epochs: 4, batch_size: 3}\n";                                         // 17

RecipeSpec load(const std::string& path, const std::string& data_dir = "/data/root",
                std::vector<std::string> overrides = {}, const std::string& out = "/out") {
  RecipeContext context;
  context.data_dir = data_dir;
  context.out_dir = out;
  context.overrides = std::move(overrides);
  return lmforge::load_recipe(path, context);
}

std::string task_value(const RecipeSpec& recipe, std::size_t stage, const char* key) {
  REQUIRE(recipe.stages.size() > stage);
  REQUIRE(recipe.stages[stage].task.node);
  return recipe.stages[stage].task.node->yaml()[key].Scalar();
}

/// what() of the ConfigError load() throws.
std::string config_error(const std::string& path, std::vector<std::string> overrides = {},
                         const std::string& data_dir = "/data/root") {
  try {
    load(path, data_dir, std::move(overrides));
  } catch (const ConfigError& e) {
    CHECK(e.code() == lmforge::ExitCode::kUsage);
    return e.what();
  }
  FAIL("load_recipe did not throw ConfigError");
  return "";
}

std::string place_at(const std::string& path, int line, int col) {
  return path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

using lmforge::test::load_build_plugins;

/// Writes the data kTwoStages names under `dir`.
void write_data(const TempDir& dir) {
  dir.file("data/lm/train.txt", "the cat sat on the mat\nthe dog sat on the log\n");
  dir.file("data/lm/valid.txt", "the cat sat on the log\n");
  dir.file("data/cls/train.tsv", "good movie\tpos\nbad movie\tneg\n");
}

}  // namespace

TEST_CASE("recipe: stages, train settings and defaults are parsed", "[recipe]") {
  TempDir dir;
  std::string path = dir.file("r.yaml", kTwoStages);
  RecipeSpec recipe = load(path);
  CHECK(recipe.name == "tiny");
  CHECK(recipe.seed == 5);
  CHECK(recipe.device == "cpu");
  CHECK(recipe.file == path);
  CHECK(recipe.run_dir == (fs::path("/out") / "tiny").string());
  REQUIRE(recipe.stages.size() == 2);
  const auto& pretrain = recipe.stages[0];
  CHECK(pretrain.name == "pretrain");
  CHECK(pretrain.place == place_at(path, 4, 5));
  CHECK(pretrain.task.type == "language_modeling");
  CHECK(pretrain.backbone.type == "lstm");
  CHECK(pretrain.head.type == "lm");
  CHECK_FALSE(pretrain.tokenizer.given());
  CHECK_FALSE(pretrain.init.given());
  CHECK(pretrain.train.epochs == 2);
  CHECK(pretrain.train.batch_size == 2);
  CHECK(pretrain.train.log_every == 5);
  CHECK(pretrain.train.optimizer.type == "adamw");
  CHECK(pretrain.train.schedule.type == "constant");  // default
  CHECK(pretrain.train.keep_checkpoints == 2);
  const auto& classify = recipe.stages[1];
  CHECK(classify.init.from == "pretrain");
  CHECK(classify.init.has("backbone"));
  CHECK(classify.init.has("tokenizer"));
  CHECK_FALSE(classify.init.has("head"));
  CHECK_FALSE(classify.backbone.given());
  CHECK(lmforge::find_stage(recipe, "classify") == 1);
  CHECK(lmforge::find_stage(recipe, "nope") == -1);
}

TEST_CASE("recipe: ${data}, ${run} and ${recipe_dir} are interpolated", "[recipe]") {
  TempDir dir;
  std::string path =
      dir.file("sub/r.yaml",
               "name: interp\n"
               "stages:\n"
               "  - name: s\n"
               "    task: {type: language_modeling, train: '${data}/a.txt',\n"
               "           valid: '${run}/v.txt', test: '${recipe_dir}/t-${data}.txt'}\n");
  RecipeSpec recipe = load(path, "/my/data/./dir", {}, "/runs");
  CHECK(task_value(recipe, 0, "train") == "/my/data/dir/a.txt");
  CHECK(task_value(recipe, 0, "valid") == "/runs/interp/v.txt");
  CHECK(task_value(recipe, 0, "test") == (dir.path / "sub").string() + "/t-/my/data/dir.txt");
  // The resolved tree (saved with the run) holds the interpolated values.
  CHECK(recipe.resolved["stages"][0]["task"]["train"].Scalar() == "/my/data/dir/a.txt");
  // An interpolated value keeps its place in the file.
  CHECK(recipe.stages[0].task.node->place_of(recipe.stages[0].task.node->yaml()["train"]) ==
        place_at(path, 4, 44));

  SECTION("--data-dir wins over $LMFORGE_DATA, which wins over ./data") {
    ScopedEnv env("LMFORGE_DATA", "/from/env");
    CHECK(lmforge::resolve_data_dir("/from/cli") == "/from/cli");
    CHECK(lmforge::resolve_data_dir("") == "/from/env");
    CHECK(task_value(load(path, ""), 0, "train") == "/from/env/a.txt");
    ScopedEnv empty("LMFORGE_DATA", "");
    CHECK(lmforge::resolve_data_dir("") == "data");
    ScopedEnv unset("LMFORGE_DATA", nullptr);
    CHECK(lmforge::resolve_data_dir("") == "data");
    CHECK(task_value(load(path, ""), 0, "train") == "data/a.txt");
  }
}

TEST_CASE("recipe: ${...} unquoted inside a flow map parses and keeps its place", "[recipe]") {
  // yaml-cpp alone ends a flow map at the `}` of `${data}` ("end of map flow not found").
  TempDir dir;
  std::string path = dir.file("r.yaml",
                              "name: flow\n"
                              "stages:\n"
                              "  - name: s\n"
                              "    task: {type: language_modeling, train: ${data}/a.txt,\n"
                              "           valid: ${run}/v.txt, test: ${dtaa}/t.txt}\n");
  std::string what = config_error(path);
  INFO(what);
  // The unknown variable is reported at its own line and column: hiding the braces before
  // parsing kept every mark where it was.
  CHECK_THAT(what, Catch::StartsWith(place_at(path, 5, 39) + ": "));
  CHECK_THAT(what, Catch::Contains("unknown variable ${dtaa}"));

  std::string good = dir.file("g.yaml",
                              "name: flow\n"
                              "stages:\n"
                              "  - name: s\n"
                              "    task: {type: language_modeling, train: ${data}/a.txt,\n"
                              "           valid: ${run}/v.txt}\n");
  RecipeSpec recipe = load(good, "/d", {}, "/runs");
  CHECK(task_value(recipe, 0, "train") == "/d/a.txt");
  CHECK(task_value(recipe, 0, "valid") == "/runs/flow/v.txt");
  // The hidden form is undone right after parsing: an override's own `$<` stays as written.
  RecipeSpec overridden = load(good, "/d", {"stages.s.task.test=x$<y>z"}, "/runs");
  CHECK(task_value(overridden, 0, "train") == "/d/a.txt");
  CHECK(task_value(overridden, 0, "test") == "x$<y>z");

  // A text that already holds `$<` is parsed exactly as written (its ${...} quoted, as plain
  // YAML needs), and `$<...>` stays literal.
  std::string literal = dir.file("l.yaml",
                                 "name: flow\n"
                                 "stages:\n"
                                 "  - name: s\n"
                                 "    task: {type: language_modeling, train: '${data}/a.txt',\n"
                                 "           valid: 'x$<y>z'}\n");
  RecipeSpec as_written = load(literal, "/d", {}, "/runs");
  CHECK(task_value(as_written, 0, "train") == "/d/a.txt");
  CHECK(task_value(as_written, 0, "valid") == "x$<y>z");
}

TEST_CASE("recipe: ${env:NAME} reads the environment, unset is an error at the value", "[recipe]") {
  TempDir dir;
  std::string path = dir.file("r.yaml",
                              "name: env\n"
                              "stages:\n"
                              "  - name: s\n"
                              "    task: {type: language_modeling,\n"
                              "           train: '${env:LMFORGE_TEST_CORPUS}/train.txt'}\n");
  {
    ScopedEnv env("LMFORGE_TEST_CORPUS", "/corpora/wiki");
    CHECK(task_value(load(path), 0, "train") == "/corpora/wiki/train.txt");
  }
  ScopedEnv unset("LMFORGE_TEST_CORPUS", nullptr);
  std::string what = config_error(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(place_at(path, 5, 19) + ": "));
  CHECK_THAT(what, Catch::Contains("environment variable LMFORGE_TEST_CORPUS is not set"));
}

TEST_CASE("recipe: an unknown or unclosed ${...} is an error with a suggestion", "[recipe]") {
  TempDir dir;
  std::string unknown = dir.file("u.yaml",
                                 "name: x\n"
                                 "stages:\n"
                                 "  - name: s\n"
                                 "    task: {type: language_modeling, train: '${dtaa}/a.txt'}\n");
  std::string what = config_error(unknown);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(place_at(unknown, 4, 44) + ": "));
  CHECK_THAT(what, Catch::Contains("unknown variable ${dtaa}"));
  CHECK_THAT(what, Catch::Contains("did you mean 'data'?"));
  CHECK_THAT(what, Catch::Contains("env:NAME"));

  std::string open = dir.file("o.yaml",
                              "name: x\n"
                              "stages:\n"
                              "  - name: s\n"
                              "    task: {type: language_modeling, train: \"${data\"}\n");
  CHECK_THAT(config_error(open), Catch::Contains("unclosed '${'"));
}

TEST_CASE("recipe: overrides merge into a stage by name or index", "[recipe][overrides]") {
  TempDir dir;
  std::string path = dir.file("r.yaml", kTwoStages);

  SECTION("by stage name: other keys of the mapping are kept") {
    RecipeSpec r = load(path, "/d", {"stages.pretrain.train.epochs=3"});
    CHECK(r.stages[0].train.epochs == 3);
    CHECK(r.stages[0].train.batch_size == 2);
    CHECK(r.stages[0].train.log_every == 5);
    CHECK(r.stages[0].train.optimizer.type == "adamw");
    CHECK(r.stages[1].train.epochs == 4);  // the other stage is untouched
    CHECK(r.resolved["stages"][0]["train"]["epochs"].as<int>() == 3);
  }
  SECTION("by index, several at once, nested and new keys") {
    RecipeSpec r =
        load(path, "/d",
             {"stages.1.train.batch_size=9", "stages.0.train.optimizer.lr=0.5",
              "stages.classify.train.max_steps=11", "seed=42", "stages.pretrain.task.bptt=6"});
    CHECK(r.stages[1].train.batch_size == 9);
    CHECK(r.stages[1].train.epochs == 4);
    CHECK(r.stages[1].train.max_steps == 11);
    CHECK(r.stages[0].train.optimizer.type == "adamw");
    REQUIRE(r.stages[0].train.optimizer.node);
    CHECK(r.stages[0].train.optimizer.node->yaml()["lr"].as<double>() == Approx(0.5));
    CHECK(r.seed == 42);
    CHECK(task_value(r, 0, "bptt") == "6");
    CHECK(task_value(r, 0, "type") == "language_modeling");
  }
  SECTION("a whole mapping or list as the value") {
    RecipeSpec r = load(path, "/d",
                        {"stages.classify.init.parts=[tokenizer]",
                         "stages.pretrain.train.schedule={type: cosine, warmup_steps: 3}"});
    CHECK(r.stages[1].init.parts == std::vector<std::string>{"tokenizer"});
    CHECK(r.stages[1].init.from == "pretrain");
    CHECK(r.stages[0].train.schedule.type == "cosine");
  }
  SECTION("a key of a stage that had none of that group yet") {
    RecipeSpec r = load(path, "/d", {"stages.classify.generate.max_tokens=3"});
    CHECK(r.stages[1].has_generate);
    CHECK(r.stages[1].generate.max_tokens == 3);
  }
  SECTION("the value is interpolated like the file's") {
    RecipeSpec r = load(path, "/d", {"stages.pretrain.task.valid=${data}/other.txt"});
    CHECK(task_value(r, 0, "valid") == "/d/other.txt");
    CHECK(task_value(r, 0, "train") == "/d/lm/train.txt");
  }
  SECTION("an override is checked like the file: a misspelt key is refused") {
    std::string what = config_error(path, {"stages.pretrain.train.epocsh=3"});
    INFO(what);
    CHECK_THAT(what, Catch::Contains("unknown option 'epocsh'"));
    CHECK_THAT(what, Catch::Contains("did you mean 'epochs'?"));
  }
  SECTION("an override with a bad value is refused") {
    std::string what = config_error(path, {"stages.pretrain.train.epochs=many"});
    CHECK_THAT(what, Catch::Contains("expects an integer, got 'many'"));
  }
}

TEST_CASE("recipe: a value set by an override is placed by its key path, not line 1",
          "[recipe][overrides]") {
  // YAML::Load marks a parsed override as line 1 of a file; errors about the value must not
  // blame the recipe's first line but name the key the command line set.
  TempDir dir;
  std::string path = dir.file("r.yaml", kTwoStages);
  std::string what = config_error(path, {"stages.pretrain.train.epochs=0"});
  INFO(what);
  CHECK_THAT(what, Catch::Contains("must be greater than 0"));
  CHECK_THAT(what, !Catch::StartsWith(place_at(path, 1, 1)));
  CHECK_THAT(what, Catch::StartsWith(path + " (stages.pretrain.train"));
}

TEST_CASE("recipe: an override naming no stage suggests the closest", "[recipe][overrides]") {
  TempDir dir;
  std::string path = dir.file("r.yaml", kTwoStages);
  std::string what = config_error(path, {"stages.pretrian.train.epochs=3"});
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith("command line override 'stages.pretrian.train.epochs=3'"));
  CHECK_THAT(what, Catch::Contains("no entry 'pretrian' in stages"));
  CHECK_THAT(what, Catch::Contains("did you mean 'pretrain'?"));
  CHECK_THAT(what, Catch::Contains("entries: pretrain, classify"));
  CHECK_THAT(config_error(path, {"stages.7.train.epochs=3"}), Catch::Contains("no entry '7'"));
}

TEST_CASE("recipe: malformed overrides are ConfigErrors", "[recipe][overrides]") {
  TempDir dir;
  std::string path = dir.file("r.yaml", kTwoStages);
  std::string no_equals = config_error(path, {"stages.pretrain.train.epochs"});
  CHECK_THAT(no_equals, Catch::StartsWith("command line override 'stages.pretrain.train.epochs'"));
  CHECK_THAT(no_equals, Catch::Contains("expected KEY=VALUE"));
  CHECK_THAT(config_error(path, {"=3"}), Catch::Contains("expected KEY=VALUE"));
  CHECK_THAT(config_error(path, {"stages..train=3"}), Catch::Contains("empty key segment"));
  CHECK_THAT(config_error(path, {"seed=[1"}), Catch::Contains("value is not valid YAML"));
  CHECK_THAT(config_error(path, {"stages.0=3"}),
             Catch::Contains("cannot replace a whole list entry"));
  CHECK_THAT(config_error(path, {"seed.value=3"}), Catch::Contains("seed is a single value"));
}

TEST_CASE("recipe: a YAML syntax error names line and column", "[recipe]") {
  TempDir dir;
  std::string path = dir.file("bad.yaml",
                              "name: broken\n"
                              "stages:\n"
                              "  - name: s\n"
                              "    task: {type: language_modeling, train: a.txt\n"
                              "    head: lm\n");
  std::string what = config_error(path);
  INFO(what);
  CHECK_THAT(what, Catch::Matches(path + ":[0-9]+:[0-9]+: YAML syntax error: .*"));
  // The error is reported at or after the unclosed flow mapping, not at the top of the file.
  auto line = std::stoi(what.substr(path.size() + 1));
  CHECK(line >= 4);

  std::string tabs = dir.file("tabs.yaml", "name: x\nstages:\n\t- name: s\n");
  CHECK_THAT(config_error(tabs), Catch::Contains("YAML syntax error"));
  CHECK_THAT(config_error((dir.path / "missing.yaml").string()),
             Catch::Contains("recipe file not found"));
  std::string list = dir.file("list.yaml", "- a\n- b\n");
  CHECK_THAT(config_error(list), Catch::Contains("must be a mapping"));
}

TEST_CASE("recipe: a misspelt option names file:line:col and the fix", "[recipe]") {
  TempDir dir;
  SECTION("in a stage's train block") {
    std::string path = dir.file("r.yaml",
                                "name: typo\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: a.txt}\n"
                                "    train:\n"
                                "      epochs: 1\n"
                                "      bacth_size: 8\n");
    std::string what = config_error(path);
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 7, 7) + ": "));
    CHECK_THAT(what, Catch::Contains("unknown option 'bacth_size'"));
    CHECK_THAT(what, Catch::Contains("did you mean 'batch_size'?"));
  }
  SECTION("at the stage level") {
    std::string path = dir.file("r.yaml",
                                "name: typo\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: a.txt}\n"
                                "    backbnoe: {type: lstm}\n");
    std::string what = config_error(path);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 5, 5) + ": "));
    CHECK_THAT(what, Catch::Contains("unknown option 'backbnoe' in stage 's'"));
    CHECK_THAT(what, Catch::Contains("did you mean 'backbone'?"));
  }
  SECTION("at the top level") {
    std::string path = dir.file("r.yaml",
                                "name: typo\n"
                                "sed: 3\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: a.txt}\n");
    std::string what = config_error(path);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 2, 1) + ": "));
    CHECK_THAT(what, Catch::Contains("did you mean 'seed'?"));
  }
  SECTION("a wrong value type in a stage") {
    std::string path = dir.file("r.yaml",
                                "name: typo\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: a.txt}\n"
                                "    train: {epochs: -1}\n");
    std::string what = config_error(path);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 5, 21) + ": "));
    CHECK_THAT(what, Catch::Contains("'stages.s.train.epochs' must be greater than 0"));
  }
  SECTION("a choice outside the allowed values") {
    std::string path = dir.file("r.yaml",
                                "name: typo\n"
                                "device: cudda\n"
                                "stages:\n"
                                "  - name: s\n"
                                "    task: {type: language_modeling, train: a.txt}\n");
    std::string what = config_error(path);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 2, 9) + ": "));
    CHECK_THAT(what, Catch::Contains("did you mean 'cuda'?"));
  }
}

TEST_CASE("recipe: structural mistakes are refused", "[recipe]") {
  TempDir dir;
  SECTION("two stages with one name") {
    std::string path = dir.file("r.yaml",
                                "name: dup\n"
                                "stages:\n"
                                "  - name: a\n"
                                "    task: {type: language_modeling, train: x.txt}\n"
                                "  - name: a\n"
                                "    task: {type: language_modeling, train: y.txt}\n");
    std::string what = config_error(path);
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 5, 5) + ": "));
    CHECK_THAT(what, Catch::Contains("two stages are named 'a'"));
  }
  SECTION("no name") {
    std::string path = dir.file("r.yaml", "stages:\n  - name: a\n    task: lm\n");
    CHECK_THAT(config_error(path), Catch::Contains("missing required option 'name'"));
  }
  SECTION("no stages") {
    std::string path = dir.file("r.yaml", "name: x\n");
    CHECK_THAT(config_error(path), Catch::Contains("needs 'stages:'"));
    std::string empty = dir.file("e.yaml", "name: x\nstages: []\n");
    CHECK_THAT(config_error(empty), Catch::Contains("needs 'stages:'"));
  }
  SECTION("a stage that is not a mapping") {
    // Once escaped as yaml-cpp's BadSubscript (tests/fuzz/regressions/fuzz_recipe/).
    std::string path = dir.file("r.yaml", "name: x\nstages:\n  - pretrain\n");
    std::string what = config_error(path);
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 3, 5) + ": "));
    CHECK_THAT(what, Catch::Contains("stage 0 must be a mapping of its settings"));
    CHECK_THAT(what, Catch::Contains("found 'pretrain'"));
    std::string list = dir.file("l.yaml", "name: x\nstages:\n  - [a, b]\n");
    CHECK_THAT(config_error(list), Catch::Contains("stage 0 must be a mapping of its settings"));
  }
  SECTION("a stage without a task or a name") {
    std::string path = dir.file("r.yaml", "name: x\nstages:\n  - name: a\n");
    CHECK_THAT(config_error(path), Catch::Contains("missing required option 'stages.a.task'"));
    std::string unnamed =
        dir.file("u.yaml", "name: x\nstages:\n  - task: {type: language_modeling}\n");
    CHECK_THAT(config_error(unnamed), Catch::Contains("missing required option 'stages.0.name'"));
  }
}

TEST_CASE("validate_recipe: a complete recipe passes", "[recipe][validate]") {
  load_build_plugins();
  TempDir dir;
  write_data(dir);
  std::string path = dir.file("r.yaml", kTwoStages);
  RecipeSpec recipe = load(path, (dir.path / "data").string());
  CHECK_NOTHROW(lmforge::validate_recipe(recipe));
}

TEST_CASE("validate_recipe: a missing data file is a DataError naming the option",
          "[recipe][validate]") {
  load_build_plugins();
  TempDir dir;
  write_data(dir);
  fs::remove(dir.path / "data/lm/valid.txt");
  std::string path = dir.file("r.yaml", kTwoStages);
  RecipeSpec recipe = load(path, (dir.path / "data").string());
  try {
    lmforge::validate_recipe(recipe);
    FAIL("missing valid.txt accepted");
  } catch (const DataError& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(e.code() == lmforge::ExitCode::kUsage);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 8, 14) + ": "));
    CHECK_THAT(what, Catch::Contains("task.valid"));
    CHECK_THAT(what, Catch::Contains((dir.path / "data/lm/valid.txt").string()));
    CHECK_THAT(what, Catch::Contains("does not exist"));
  }
  // The second stage's data is checked too.
  write_data(dir);
  fs::remove(dir.path / "data/cls/train.tsv");
  CHECK_THROWS_WITH(lmforge::validate_recipe(recipe), Catch::Contains("task.train"));
}

TEST_CASE("validate_recipe: init.from must name an earlier stage", "[recipe][validate]") {
  load_build_plugins();
  TempDir dir;
  write_data(dir);
  std::string path = dir.file("r.yaml", kTwoStages);
  auto error = [&](std::vector<std::string> overrides) -> std::string {
    RecipeSpec recipe = load(path, (dir.path / "data").string(), std::move(overrides));
    try {
      lmforge::validate_recipe(recipe);
    } catch (const ConfigError& e) {
      return e.what();
    }
    FAIL("validate_recipe accepted it");
    return "";
  };
  SECTION("a later stage") {
    std::string what = error({"stages.pretrain.init={from: classify, parts: [backbone]}"});
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 4, 5) + ": "));
    CHECK_THAT(what, Catch::Contains("init.from 'classify' must name an earlier stage"));
  }
  SECTION("itself") {
    std::string what = error({"stages.classify.init.from=classify"});
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 13, 5) + ": "));
    CHECK_THAT(what, Catch::Contains("must name an earlier stage"));
  }
  SECTION("neither a stage nor a directory") {
    std::string what = error({"stages.classify.init.from=pretrian"});
    CHECK_THAT(what, Catch::Contains("init.from 'pretrian' is neither an earlier stage"));
  }
  SECTION("an unknown part") {
    std::string what = error({"stages.classify.init.parts=[tokenizer, bakbone]"});
    CHECK_THAT(what, Catch::Contains("unknown part 'bakbone'"));
  }
  SECTION("no backbone given and none taken from init") {
    std::string what = error({"stages.classify.init.parts=[tokenizer]"});
    CHECK_THAT(what, Catch::Contains("needs a backbone"));
  }
}

TEST_CASE("validate_recipe: component names and options are checked before training",
          "[recipe][validate]") {
  load_build_plugins();
  TempDir dir;
  write_data(dir);
  std::string path = dir.file("r.yaml", kTwoStages);
  auto error = [&](std::vector<std::string> overrides) -> std::string {
    RecipeSpec recipe = load(path, (dir.path / "data").string(), std::move(overrides));
    try {
      lmforge::validate_recipe(recipe);
    } catch (const ConfigError& e) {
      return e.what();
    }
    FAIL("validate_recipe accepted it");
    return "";
  };
  SECTION("unknown backbone type") {
    std::string what = error({"stages.pretrain.backbone.type=lstn"});
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith(place_at(path, 10, 15) + ": "));
    CHECK_THAT(what, Catch::Contains("unknown backbone 'lstn'"));
    CHECK_THAT(what, Catch::Contains("did you mean 'lstm'?"));
  }
  SECTION("misspelt backbone option in the file") {
    std::string bad =
        dir.file("typo.yaml",
                 "name: t\n"
                 "stages:\n"
                 "  - name: s\n"
                 "    task: {type: language_modeling, train: '${data}/lm/train.txt'}\n"
                 "    backbone: {type: lstm, hiden_size: 8}\n"
                 "    head: lm\n");
    RecipeSpec recipe = load(bad, (dir.path / "data").string());
    try {
      lmforge::validate_recipe(recipe);
      FAIL("misspelt option accepted");
    } catch (const ConfigError& e) {
      std::string what = e.what();
      INFO(what);
      CHECK_THAT(what, Catch::StartsWith(place_at(bad, 5, 28) + ": "));
      CHECK_THAT(what, Catch::Contains("unknown option 'hiden_size' in backbone 'lstm'"));
      CHECK_THAT(what, Catch::Contains("did you mean 'hidden_size'?"));
    }
  }
  SECTION("bad optimizer option") {
    std::string what = error({"stages.pretrain.train.optimizer.lr=-1"});
    CHECK_THAT(what, Catch::Contains("lr"));
    CHECK_THAT(what, Catch::Contains("greater than 0"));
  }
  SECTION("unknown task option") {
    std::string what = error({"stages.pretrain.task.bpt=3"});
    CHECK_THAT(what, Catch::Contains("did you mean 'bptt'?"));
  }
  SECTION("unknown head") {
    std::string what = error({"stages.classify.head.type=classifer"});
    CHECK_THAT(what, Catch::Contains("did you mean 'classifier'?"));
  }
}
