// Transfer learning (issue 4): a backbone carried under a new head bit for bit, frozen groups that
// never move (weight decay and momentum included), gradual unfreezing top group first, per-group
// learning rates, `init` refusals that name the part and both shapes, and a synthetic task on which
// language-model pre-training measurably helps a classifier that has only a few labels.
#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "config/yaml_options.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "lmforge/registry.h"
#include "lmforge/task.h"
#include "lmforge/vocabulary.h"
#include "recipe/recipe.h"
#include "recipe/run_recipe.h"
#include "recipe/stage_training.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using lmforge::Backbone;
using lmforge::ConfigError;
using lmforge::Head;
using lmforge::Model;

namespace {

using lmforge::test::TempDir;

using lmforge::test::load_build_plugins;

// ---------------------------------------------------------------------------------------------
// Synthetic data on which pre-training helps for a reason that can be stated.
//
// Content words fall in two classes, animals ("beast7") and machines ("gadget7"). In the
// unlabelled text a content word is mostly preceded by one of its class's adjectives and followed
// by one of its class's verbs ("the hungry beast7 hunts today"); the rest of the time by a neutral
// adjective or verb ("old", "waits") that both classes share. To predict a word's neighbours a
// language model has to learn which class the word belongs to. A labelled sentence surrounds its
// content word with neutral words only ("my old beast7 waits today") and its label is the word's
// class. The labelled training set uses only the first few words of each class, the test set only
// the others. A classifier trained from scratch never sees a test word with a label and nothing
// else in a test sentence hints at the class, so it can only guess; a backbone pre-trained on the
// unlabelled text already places unseen words of a class beside the seen ones.
// ---------------------------------------------------------------------------------------------

struct CorpusSizes {
  int unlabelled_sentences = 400;
  int words_per_class = 8;
  int seen_words_per_class = 3;  ///< the labelled training set names only these
  int train_sentences_per_seen_word = 2;
  int test_sentences_per_unseen_word = 2;
};

struct WordClass {
  std::string label;
  std::string stem;
  std::vector<std::string> adjectives;
  std::vector<std::string> verbs;
};

const std::vector<WordClass>& word_classes() {
  static const std::vector<WordClass> classes{
      {"animal", "beast", {"wild", "hungry", "furry"}, {"runs", "sleeps", "eats", "hunts"}},
      {"machine", "gadget", {"shiny", "cheap", "broken"}, {"beeps", "breaks", "charges", "rusts"}},
  };
  return classes;
}

/// Writes unlabelled.txt (one sentence a line), train.tsv and test.tsv (label TAB text) to `dir`.
void write_two_class_corpus(const fs::path& dir, const CorpusSizes& sizes, std::uint32_t seed) {
  const std::vector<std::string> determiners{"the", "a", "my", "this"};
  const std::vector<std::string> neutral_adjectives{"old", "big"};
  const std::vector<std::string> neutral_verbs{"waits", "appears"};
  const std::vector<std::string> adverbs{"today", "again", "now", "often"};
  constexpr double kClassContext = 0.8;  // how often a neighbour is class-specific
  std::mt19937 rng(seed);
  auto pick = [&](const std::vector<std::string>& words) {
    return words[std::uniform_int_distribution<std::size_t>(0, words.size() - 1)(rng)];
  };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto word = [](const WordClass& c, int i) { return c.stem + std::to_string(i); };
  const auto& classes = word_classes();

  fs::create_directories(dir);
  std::ofstream unlabelled(dir / "unlabelled.txt", std::ios::binary);
  for (int s = 0; s < sizes.unlabelled_sentences; ++s) {
    const WordClass& c = classes[std::uniform_int_distribution<std::size_t>(0, 1)(rng)];
    int w = std::uniform_int_distribution<int>(0, sizes.words_per_class - 1)(rng);
    unlabelled << pick(determiners) << " "
               << (chance(kClassContext) ? pick(c.adjectives) : pick(neutral_adjectives)) << " "
               << word(c, w) << " " << (chance(kClassContext) ? pick(c.verbs) : pick(neutral_verbs))
               << " " << pick(adverbs) << "\n";
  }
  auto labelled = [&](std::ofstream& out, const WordClass& c, int w) {
    out << c.label << "\t" << pick(determiners) << " " << pick(neutral_adjectives) << " "
        << word(c, w) << " " << pick(neutral_verbs) << " " << pick(adverbs) << "\n";
  };
  std::ofstream train(dir / "train.tsv", std::ios::binary);
  std::ofstream test(dir / "test.tsv", std::ios::binary);
  for (const auto& c : classes) {
    for (int w = 0; w < sizes.words_per_class; ++w) {
      bool seen = w < sizes.seen_words_per_class;
      int count = seen ? sizes.train_sentences_per_seen_word : sizes.test_sentences_per_unseen_word;
      for (int i = 0; i < count; ++i) labelled(seen ? train : test, c, w);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Recipes, run directories and checkpoints
// ---------------------------------------------------------------------------------------------

/// Writes `yaml` to `dir`/recipe.yaml and runs it in this process; runs go under `dir`/runs.
void run_recipe_text(const TempDir& dir, const std::string& yaml, const fs::path& data_dir,
                     std::vector<std::string> overrides = {}, bool resume = false) {
  lmforge::RecipeContext context;
  context.data_dir = data_dir.string();
  context.out_dir = dir.str("runs");
  context.overrides = std::move(overrides);
  lmforge::RecipeSpec recipe = lmforge::load_recipe(dir.file("recipe.yaml", yaml), context);
  lmforge::RunOptions options;
  options.resume = resume;
  lmforge::run_recipe(recipe, options);
}

/// 2 layers: layer groups backbone.0 (embedding), backbone.1 (lstm0), backbone.2 (lstm1).
const char* const kBackbone =
    "{type: lstm, embedding_dim: 16, hidden_size: 24, layers: 2, dropout: 0.1}";
constexpr std::size_t kBackboneGroups = 3;

struct PretrainedRun {
  fs::path data;   ///< the synthetic corpus (unlabelled.txt, train.tsv, test.tsv)
  fs::path stage;  ///< the pre-training stage's directory, for init.from
};

/// A small LSTM language model pre-trained on the synthetic corpus, shared by the tests of one
/// process (each ctest entry is its own process, so it is built at most once per test case).
const PretrainedRun& pretrained() {
  static TempDir dir;
  static const PretrainedRun run = [] {
    load_build_plugins();
    fs::path data = dir.path / "data";
    write_two_class_corpus(data, CorpusSizes{}, 5);
    run_recipe_text(
        dir,
        "name: pre\n"
        "seed: 1\n"
        "threads: 1\n"
        "stages:\n"
        "  - name: pretrain\n"
        "    task: {type: language_modeling, train: '${data}/unlabelled.txt', bptt: 8}\n"
        "    backbone: " +
            std::string(kBackbone) +
            "\n"
            "    head: {type: lm, tie_weights: true}\n"
            "    train: {epochs: 1, batch_size: 8, log_every: 1000,\n"
            "            optimizer: {type: adamw, lr: 0.01}}\n",
        data);
    return PretrainedRun{data, dir.path / "runs" / "pre" / "pretrain"};
  }();
  return run;
}

using Tensors = std::map<std::string, torch::Tensor>;

/// Every tensor of one part ("backbone" or "head") of a checkpoint, by key.
Tensors read_part(const fs::path& checkpoint, const std::string& part) {
  torch::serialize::InputArchive archive;
  lmforge::read_checkpoint_archive(checkpoint.string(), part + ".pt", archive);
  Tensors tensors;
  for (const auto& key : archive.keys()) {
    torch::Tensor value;
    archive.read(key, value);
    tensors[key] = value;
  }
  return tensors;
}

/// A copy of a module's parameters, detached from later updates.
Tensors snapshot(torch::nn::Module& module) {
  Tensors tensors;
  for (const auto& item : module.named_parameters()) {
    tensors[item.key()] = item.value().detach().clone();
  }
  return tensors;
}

/// A stage's checkpoint directories, oldest first (names are zero-padded step numbers).
std::vector<fs::path> checkpoints_of(const fs::path& stage_dir) {
  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(stage_dir / "checkpoints")) {
    if (entry.is_directory() && entry.path().extension() != ".tmp") all.push_back(entry.path());
  }
  std::sort(all.begin(), all.end());
  return all;
}

fs::path latest_checkpoint(const fs::path& stage_dir) {
  auto latest = lmforge::CheckpointStore(stage_dir.string()).latest();
  REQUIRE(latest);
  return *latest;
}

/// The weights of a model at one moment: its backbone and head parts.
struct Weights {
  Tensors backbone;
  Tensors head;
};

Weights weights_at(const fs::path& checkpoint) {
  return {read_part(checkpoint, "backbone"), read_part(checkpoint, "head")};
}

std::shared_ptr<Backbone> make_backbone(const std::string& yaml, std::int64_t vocab_size) {
  YAML::Node node = YAML::Load(yaml);
  lmforge::YamlOptionReader reader(lmforge::ConfigNode(node, "test", "backbone"), "backbone");
  return lmforge::Registry::instance().make_backbone(
      node["type"].as<std::string>(), reader, lmforge::BackboneContext{vocab_size, 0}, "test");
}

std::shared_ptr<Head> make_head(const std::string& yaml, Backbone& backbone,
                                std::int64_t num_outputs) {
  YAML::Node node = YAML::Load(yaml);
  lmforge::YamlOptionReader reader(lmforge::ConfigNode(node, "test", "head"), "head");
  return lmforge::Registry::instance().make_head(
      node["type"].as<std::string>(), reader,
      lmforge::HeadContext{backbone.output_size(), num_outputs, &backbone}, "test");
}

/// Which layer group (bottom = 0) each backbone key belongs to, read off a backbone built with
/// the same options, so the tests do not hard-code the lstm's parameter names.
std::map<std::string, std::size_t> group_of_key(const std::string& backbone_yaml) {
  auto backbone = make_backbone(backbone_yaml, 10);
  auto groups = backbone->layer_groups();
  REQUIRE(groups.size() == kBackboneGroups);
  std::map<std::string, std::size_t> group_of;
  for (const auto& item : backbone->named_parameters()) {
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (const auto& tensor : groups[g]) {
        if (tensor.is_same(item.value())) group_of[item.key()] = g;
      }
    }
    INFO(item.key());
    REQUIRE(group_of.count(item.key()) == 1);
  }
  return group_of;
}

/// For each parameter group (backbone groups bottom to top, then the head): whether any of its
/// tensors differs between the two snapshots. "Unchanged" means every tensor is bit-identical.
std::vector<bool> changed_groups(const Weights& before, const Weights& after,
                                 const std::map<std::string, std::size_t>& group_of) {
  std::vector<bool> changed(kBackboneGroups + 1, false);
  REQUIRE(before.backbone.size() == after.backbone.size());
  for (const auto& [key, tensor] : before.backbone) {
    INFO("backbone key " << key);
    REQUIRE(after.backbone.count(key) == 1);
    REQUIRE(group_of.count(key) == 1);
    if (!torch::equal(tensor, after.backbone.at(key))) changed[group_of.at(key)] = true;
  }
  for (const auto& [key, tensor] : before.head) {
    INFO("head key " << key);
    REQUIRE(after.head.count(key) == 1);
    if (!torch::equal(tensor, after.head.at(key))) changed[kBackboneGroups] = true;
  }
  return changed;
}

/// The last `metric` logged for `split` in a stage's metrics.jsonl.
double logged_metric(const fs::path& stage_dir, const std::string& split,
                     const std::string& metric) {
  std::ifstream in(stage_dir / "metrics.jsonl");
  std::string line;
  std::optional<double> value;
  while (std::getline(in, line)) {
    if (line.find("\"split\": \"" + split + "\"") == std::string::npos) continue;
    auto at = line.find("\"" + metric + "\": ");
    if (at != std::string::npos) value = std::stod(line.substr(at + metric.size() + 4));
  }
  INFO(stage_dir.string() << " logs no " << split << " " << metric);
  REQUIRE(value);
  return *value;
}

std::string fine_tune_recipe(const std::string& name, const std::string& init_parts,
                             const std::string& extra_stage_lines, const std::string& train) {
  return "name: " + name +
         "\n"
         "seed: 3\n"
         "threads: 1\n"
         "stages:\n"
         "  - name: tune\n"
         "    init: {from: '" +
         pretrained().stage.string() + "', parts: [" + init_parts +
         "]}\n"
         "    task: {type: classification, format: tsv, train: '${data}/train.tsv'}\n" +
         extra_stage_lines + "    head: {type: classifier, pooling: concat}\n" +
         "    train: {batch_size: 4, log_every: 1000, keep_checkpoints: 10, " + train + "}\n";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

TEST_CASE("transfer: a backbone moved under a new head is bit-identical, the head starts fresh",
          "[transfer][init]") {
  load_build_plugins();
  TempDir dir;
  constexpr std::int64_t kVocab = 40;
  const std::string backbone_yaml =
      "{type: lstm, embedding_dim: 8, hidden_size: 12, layers: 2, dropout: 0}";

  torch::manual_seed(11);
  auto lm_backbone = make_backbone(backbone_yaml, kVocab);
  Model lm_model(lm_backbone, make_head("{type: lm, tie_weights: true}", *lm_backbone, kVocab));
  {
    // A few language-model steps, so the weights are no fresh model's initial values.
    torch::optim::SGD sgd(lm_model.parameters(), torch::optim::SGDOptions(0.5));
    for (int step = 0; step < 5; ++step) {
      torch::Tensor tokens = torch::randint(1, kVocab, {4, 9}, torch::kLong);
      sgd.zero_grad();
      auto features = lm_backbone->forward({tokens.slice(1, 0, 8), {}, {}});
      torch::Tensor logits = lm_model.head().forward(features);
      lm_model.head().loss(logits, tokens.slice(1, 1, 9)).backward();
      sgd.step();
    }
  }
  // Saved exactly as the trainer saves a stage's checkpoint.
  lmforge::CheckpointStore store(dir.str("lm_stage"));
  store.save(lm_model, lmforge::CheckpointMeta{1, 0, 5, true, "lstm", "lm"},
             [](torch::serialize::OutputArchive&) {});
  fs::path checkpoint = latest_checkpoint(dir.str("lm_stage"));

  torch::manual_seed(12);
  auto backbone = make_backbone(backbone_yaml, kVocab);
  auto head = make_head("{type: classifier, pooling: concat, dropout: 0}", *backbone, 3);
  Model classifier(backbone, head);
  const Tensors fresh_head = snapshot(*head);
  const Tensors source = snapshot(*lm_backbone);
  {
    // Premise: before the load the two bodies differ, so equality afterwards is the load's doing.
    Tensors before = snapshot(*backbone);
    bool any_differs = false;
    for (const auto& [key, tensor] : source) any_differs |= !torch::equal(tensor, before.at(key));
    REQUIRE(any_differs);
  }

  CHECK(lmforge::load_part(*backbone, checkpoint.string(), "backbone").empty());

  const Tensors loaded = snapshot(*backbone);
  REQUIRE(loaded.size() == source.size());
  for (const auto& [key, tensor] : source) {
    INFO("backbone key " << key);
    REQUIRE(loaded.count(key) == 1);
    CHECK(loaded.at(key).dtype() == tensor.dtype());
    CHECK(torch::equal(loaded.at(key), tensor));
  }
  // The head is untouched by the backbone's load: exactly its own fresh initialisation.
  const Tensors head_after = snapshot(*head);
  REQUIRE(head_after.size() == fresh_head.size());
  for (const auto& [key, tensor] : fresh_head) {
    INFO("head key " << key);
    CHECK(torch::equal(head_after.at(key), tensor));
  }
  // Same numbers, same function: both bodies map the same tokens to the same features, and the
  // new head turns them into one logit per label.
  lm_backbone->eval();
  backbone->eval();
  torch::Tensor tokens = torch::randint(1, kVocab, {2, 7}, torch::kLong);
  torch::NoGradGuard no_grad;
  auto expected = lm_backbone->forward({tokens, {}, {}});
  auto features = backbone->forward({tokens, {}, {}});
  CHECK(torch::equal(features.sequence, expected.sequence));
  CHECK(head->forward(features).sizes() == torch::IntArrayRef({2, 3}));

  // The lm head's part does not fit a classifier head: refused, naming the keys on each side.
  try {
    lmforge::load_part(*head, checkpoint.string(), "head");
    FAIL("loading an lm head's weights into a classifier head was not refused");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Contains("head") && Contains("output.weight") && Contains("bias"));
  }
  for (const auto& [key, tensor] : fresh_head) CHECK(torch::equal(snapshot(*head).at(key), tensor));
}

TEST_CASE("transfer: frozen groups stay bit-identical under weight decay and momentum",
          "[transfer][freeze]") {
  const std::string optimizer =
      GENERATE(as<std::string>{}, "{type: adamw, lr: 0.01, weight_decay: 0.1}",
               "{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.01}");
  const std::string frozen = GENERATE(as<std::string>{}, "backbone", "backbone.0");
  INFO("optimizer " << optimizer << ", freeze [" << frozen << "]");
  // Groups: embedding, lstm0, lstm1, head.
  const std::vector<bool> trainable = frozen == "backbone"
                                          ? std::vector<bool>{false, false, false, true}
                                          : std::vector<bool>{false, true, true, true};
  const PretrainedRun& source = pretrained();
  TempDir dir;
  run_recipe_text(dir,
                  fine_tune_recipe("frozen", "tokenizer, backbone", "",
                                   "epochs: 2, freeze: [" + frozen + "], optimizer: " + optimizer),
                  source.data);

  const auto group_of = group_of_key(kBackbone);
  fs::path stage = dir.path / "runs" / "frozen" / "tune";
  auto checkpoints = checkpoints_of(stage);
  REQUIRE(checkpoints.size() == 2);  // after epoch 1, final
  // Epoch 1 starts from the pre-trained backbone (the head is fresh: only its later change counts).
  Weights start{read_part(latest_checkpoint(source.stage), "backbone"), {}};
  Weights after_epoch1 = weights_at(checkpoints[0]);
  Weights final_weights = weights_at(checkpoints[1]);
  start.head = after_epoch1.head;

  auto epoch1 = changed_groups(start, after_epoch1, group_of);
  CHECK(std::vector<bool>(epoch1.begin(), epoch1.end() - 1) ==
        std::vector<bool>(trainable.begin(), trainable.end() - 1));
  CHECK(changed_groups(after_epoch1, final_weights, group_of) == trainable);
  CHECK(changed_groups(start, final_weights, group_of) ==
        std::vector<bool>{trainable[0], trainable[1], trainable[2], true});
}

TEST_CASE("transfer: a group frozen after it trained (with optimizer state) does not move",
          "[transfer][freeze]") {
  const std::string optimizer =
      GENERATE(as<std::string>{}, "{type: adamw, lr: 0.01, weight_decay: 0.1}",
               "{type: sgd, lr: 0.1, momentum: 0.9, weight_decay: 0.01}");
  const std::string frozen = GENERATE(as<std::string>{}, "backbone", "backbone.0");
  INFO("optimizer " << optimizer << ", freeze [" << frozen << "] on resume");
  const std::vector<bool> trainable = frozen == "backbone"
                                          ? std::vector<bool>{false, false, false, true}
                                          : std::vector<bool>{false, true, true, true};
  const PretrainedRun& source = pretrained();
  TempDir dir;
  const std::string recipe =
      fine_tune_recipe("refreeze", "tokenizer, backbone", "", "epochs: 3, optimizer: " + optimizer);
  run_recipe_text(dir, recipe, source.data);

  const auto group_of = group_of_key(kBackbone);
  fs::path stage = dir.path / "runs" / "refreeze" / "tune";
  auto checkpoints = checkpoints_of(stage);
  REQUIRE(checkpoints.size() == 3);  // after epochs 1 and 2, final
  const Weights after_epoch1 = weights_at(checkpoints[0]);
  // Premise: without freezing every group keeps training after epoch 1, so each has optimizer
  // state (momentum, Adam moments) when it is frozen below.
  CHECK(changed_groups(after_epoch1, weights_at(checkpoints[2]), group_of) ==
        std::vector<bool>{true, true, true, true});

  // As if the run had been stopped after epoch 1 and resumed with the group frozen.
  std::ofstream(stage / "checkpoints" / "latest") << checkpoints[0].filename().string() << "\n";
  fs::remove(stage / "done");
  run_recipe_text(dir, recipe, source.data, {"stages.tune.train.freeze=[" + frozen + "]"},
                  /*resume=*/true);

  fs::path resumed_final = latest_checkpoint(stage);
  REQUIRE(lmforge::CheckpointStore::read_meta(resumed_final.string()).finished);
  CHECK(changed_groups(after_epoch1, weights_at(resumed_final), group_of) == trainable);
}

TEST_CASE("transfer: a stage that would train nothing is refused with a recipe error",
          "[transfer][freeze]") {
  // Every group frozen (outright, or in gradual unfreezing's first epoch with the head frozen)
  // leaves no parameter to train: that is a recipe mistake and must be reported as one (exit 2,
  // naming train.freeze), not as LibTorch's "element 0 of tensors does not require grad".
  const std::string train =
      GENERATE(as<std::string>{}, "freeze: [backbone, head]", "freeze: [head], unfreeze: gradual");
  INFO(train);
  const PretrainedRun& source = pretrained();
  TempDir dir;
  try {
    run_recipe_text(dir,
                    fine_tune_recipe("nothing", "tokenizer, backbone", "", "epochs: 2, " + train),
                    source.data);
    FAIL("a stage with nothing to train ran");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Contains("freeze"));
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    FAIL("refused by LibTorch instead of a ConfigError: " << message.substr(0, message.find('\n')));
  }
}

TEST_CASE("transfer: gradual unfreezing opens one group per epoch, top first",
          "[transfer][unfreeze]") {
  lmforge::TrainSpec gradual;
  gradual.unfreeze = "gradual";
  // Groups: backbone.0 (bottom) .. backbone.2 (top), head.
  const std::vector<std::vector<bool>> expected{{false, false, false, true},
                                                {false, false, true, true},
                                                {false, true, true, true},
                                                {true, true, true, true},
                                                {true, true, true, true}};
  for (std::int64_t epoch = 0; epoch < 5; ++epoch) {
    INFO("epoch " << epoch);
    CHECK(lmforge::trainable_groups(gradual, kBackboneGroups, epoch, "test") == expected[epoch]);
  }
  // A group frozen explicitly stays frozen when gradual unfreezing reaches it.
  lmforge::TrainSpec gradual_bottom_frozen = gradual;
  gradual_bottom_frozen.freeze = {"backbone.0"};
  CHECK(lmforge::trainable_groups(gradual_bottom_frozen, kBackboneGroups, 10, "test") ==
        std::vector<bool>{false, true, true, true});

  // The same schedule, observed on the weights of a real four-epoch fine-tuning run.
  const PretrainedRun& source = pretrained();
  TempDir dir;
  run_recipe_text(dir,
                  fine_tune_recipe("gradual", "tokenizer, backbone", "",
                                   "epochs: 4, unfreeze: gradual, "
                                   "optimizer: {type: adamw, lr: 0.01, weight_decay: 0.1}"),
                  source.data);
  const auto group_of = group_of_key(kBackbone);
  auto checkpoints = checkpoints_of(dir.path / "runs" / "gradual" / "tune");
  REQUIRE(checkpoints.size() == 4);  // after epochs 1, 2, 3, final
  std::vector<Weights> snapshots{{read_part(latest_checkpoint(source.stage), "backbone"), {}}};
  for (const auto& checkpoint : checkpoints) snapshots.push_back(weights_at(checkpoint));
  snapshots[0].head = snapshots[1].head;  // the head starts fresh; epoch 0's change is not seen
  for (std::size_t epoch = 0; epoch < 4; ++epoch) {
    INFO("epoch " << epoch);
    auto changed = changed_groups(snapshots[epoch], snapshots[epoch + 1], group_of);
    std::vector<bool> want = expected[epoch];
    if (epoch == 0) want.back() = false;
    CHECK(changed == want);
  }
}

namespace {

/// A task whose loss is the plain sum of every trainable parameter: each gradient element is
/// exactly 1, so a plain SGD step moves every element of a group by exactly that group's rate.
class SumOfParametersTask : public lmforge::Task {
 public:
  explicit SumOfParametersTask(std::int64_t steps) : steps_(steps) {}
  void prepare(lmforge::Tokenizer&, bool) override {}
  std::int64_t num_outputs() const override { return 2; }
  std::int64_t steps_per_epoch() const override { return steps_; }
  void start_epoch(std::int64_t) override {}
  lmforge::StepResult train_step(Model& model, std::int64_t) override {
    torch::Tensor loss = torch::zeros({});
    for (const auto& p : model.parameters()) {
      if (p.requires_grad()) loss = loss + p.sum();
    }
    return {loss, 1, false};
  }
  lmforge::Metrics evaluate(Model&, const std::string&) override { return {}; }
  std::vector<std::string> eval_splits() const override { return {}; }
  std::string primary_metric() const override { return "loss"; }
  bool higher_is_better() const override { return false; }

 private:
  std::int64_t steps_;
};

/// The learning rate of each parameter group in a checkpoint's saved optimizer.
std::vector<double> saved_group_rates(const fs::path& checkpoint) {
  torch::serialize::InputArchive trainer;
  lmforge::read_checkpoint_archive(checkpoint.string(), "trainer.pt", trainer);
  torch::serialize::InputArchive groups;
  trainer.read("param_groups", groups);
  torch::Tensor size;
  groups.read("param_groups/size", size);
  std::vector<double> rates;
  for (std::int64_t g = 0; g < size.item<std::int64_t>(); ++g) {
    torch::serialize::InputArchive group, options;
    groups.read("param_groups/" + std::to_string(g), group);
    group.read("options", options);
    c10::IValue lr;
    options.read("lr", lr);
    rates.push_back(lr.toDouble());
  }
  return rates;
}

}  // namespace

TEST_CASE("transfer: discriminative rates give group g the rate lr x factor^-(distance from top)",
          "[transfer][discriminative]") {
  load_build_plugins();
  // Off unless asked for: the recipe's default factor is 1, every group at the optimizer's rate.
  CHECK(lmforge::TrainSpec{}.discriminative_lr == 1.0);
  CHECK(lmforge::discriminative_scales(1.0, kBackboneGroups) == std::vector<double>(4, 1.0));
  const auto scales = lmforge::discriminative_scales(2.6, kBackboneGroups);
  REQUIRE(scales.size() == kBackboneGroups + 1);
  for (std::size_t g = 0; g <= kBackboneGroups; ++g) {
    INFO("group " << g);
    CHECK(scales[g] == Approx(std::pow(2.6, -static_cast<double>(kBackboneGroups - g))));
  }

  // The trainer's own optimizer, seen through what it does: plain SGD on a loss whose gradient
  // is all ones moves each element of group g by steps x lr x scale[g].
  TempDir dir;
  const std::string recipe_text =
      "name: rates\n"
      "stages:\n"
      "  - name: s\n"
      "    task: {type: classification, train: unused.tsv}\n"
      "    train: {epochs: 1, log_every: 1000, discriminative_lr: 2.6,\n"
      "            optimizer: {type: sgd, lr: 0.01}}\n";
  lmforge::RecipeContext context;
  context.out_dir = dir.str("runs");
  lmforge::RecipeSpec recipe = lmforge::load_recipe(dir.file("rates.yaml", recipe_text), context);
  const lmforge::StageSpec& stage = recipe.stages.at(0);
  REQUIRE(stage.train.discriminative_lr == 2.6);

  torch::manual_seed(3);
  auto backbone = make_backbone(kBackbone, 30);
  Model model(backbone, make_head("{type: classifier, pooling: mean}", *backbone, 2));
  auto groups = lmforge::parameter_groups(model);
  REQUIRE(groups.size() == kBackboneGroups + 1);
  std::vector<std::vector<torch::Tensor>> before;
  for (const auto& group : groups) {
    before.emplace_back();
    for (const auto& p : group) before.back().push_back(p.detach().clone());
  }
  constexpr std::int64_t kSteps = 3;
  SumOfParametersTask task(kSteps);
  lmforge::TrainerSetup setup{"s", dir.str("runs/rates/s"), stage.place, {}, "lstm", "classifier"};
  fs::create_directories(setup.stage_dir);
  lmforge::train_stage(setup, stage.train, model, task);

  for (std::size_t g = 0; g < groups.size(); ++g) {
    INFO("group " << g);
    const double expected_step = 0.01 * scales[g];
    for (std::size_t i = 0; i < groups[g].size(); ++i) {
      torch::Tensor moved = before[g][i] - groups[g][i].detach();
      CHECK(moved.min().item<double>() == Approx(kSteps * expected_step).epsilon(1e-3));
      CHECK(moved.max().item<double>() == Approx(kSteps * expected_step).epsilon(1e-3));
    }
  }
  // And the rates the optimizer carries in the checkpoint the trainer wrote.
  auto rates = saved_group_rates(latest_checkpoint(setup.stage_dir));
  REQUIRE(rates.size() == scales.size());
  for (std::size_t g = 0; g < rates.size(); ++g) {
    INFO("group " << g);
    CHECK(rates[g] == Approx(0.01 * scales[g]));
  }
}

TEST_CASE("transfer: load_part refuses a shape mismatch before changing anything",
          "[transfer][init]") {
  load_build_plugins();
  TempDir dir;
  torch::manual_seed(5);
  auto source_backbone =
      make_backbone("{type: lstm, embedding_dim: 8, hidden_size: 12, layers: 2}", 20);
  Model source(source_backbone, make_head("{type: classifier}", *source_backbone, 2));
  lmforge::CheckpointStore store(dir.str("stage"));
  store.save(source, lmforge::CheckpointMeta{1, 0, 1, true, "lstm", "classifier"},
             [](torch::serialize::OutputArchive&) {});

  // Same vocabulary and embedding width, so embedding.weight fits; the LSTM layers do not.
  auto target = make_backbone("{type: lstm, embedding_dim: 8, hidden_size: 10, layers: 2}", 20);
  const Tensors before = snapshot(*target);
  try {
    lmforge::load_part(*target, latest_checkpoint(dir.str("stage")).string(), "backbone");
    FAIL("a backbone with another hidden_size was loaded");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Contains("backbone") && Contains("lstm0.weight_hh_l0") &&
                             Contains("[48, 12]") && Contains("[40, 10]"));
  }
  // A refused load leaves the module as it was: not half the old body and half the new.
  for (const auto& [key, tensor] : before) {
    INFO(key);
    CHECK(torch::equal(snapshot(*target).at(key), tensor));
  }
}

TEST_CASE("transfer: a grown vocabulary keeps the source's rows and starts new words at the mean",
          "[transfer][init][vocabulary]") {
  load_build_plugins();
  TempDir dir;
  torch::manual_seed(6);
  constexpr std::int64_t kOld = 20, kNew = 23, kFirstWord = lmforge::Vocabulary::kEos + 1;
  auto source_backbone =
      make_backbone("{type: lstm, embedding_dim: 8, hidden_size: 12, layers: 1}", kOld);
  Model source(source_backbone,
               make_head("{type: lm, tie_weights: false}", *source_backbone, kOld));
  lmforge::CheckpointStore store(dir.str("stage"));
  store.save(source, lmforge::CheckpointMeta{1, 0, 1, true, "lstm", "lm"},
             [](torch::serialize::OutputArchive&) {});
  const fs::path checkpoint = latest_checkpoint(dir.str("stage"));
  const Weights stored = weights_at(checkpoint);

  auto backbone = make_backbone("{type: lstm, embedding_dim: 8, hidden_size: 12, layers: 1}", kNew);
  auto head = make_head("{type: lm, tie_weights: false}", *backbone, kNew);
  lmforge::load_part(*backbone, checkpoint.string(), "backbone", false, {kOld, kNew});
  lmforge::load_part(*head, checkpoint.string(), "head", false, {kOld, kNew});

  auto check_grown = [&](const torch::Tensor& loaded, const torch::Tensor& original) {
    REQUIRE(loaded.size(0) == kNew);
    CHECK(torch::equal(loaded.slice(0, 0, kOld), original));
    const torch::Tensor mean = original.slice(0, kFirstWord).mean(0);
    for (std::int64_t id = kOld; id < kNew; ++id) CHECK(torch::allclose(loaded[id], mean));
  };
  const auto loaded_backbone = snapshot(*backbone);
  const auto loaded_head = snapshot(*head);
  INFO("embedding");
  check_grown(loaded_backbone.at("embedding.weight"), stored.backbone.at("embedding.weight"));
  // Tensors not indexed by the vocabulary load as they are.
  CHECK(torch::equal(loaded_backbone.at("lstm0.weight_hh_l0"),
                     stored.backbone.at("lstm0.weight_hh_l0")));
  for (const auto& [key, tensor] : stored.head) {
    INFO("head " << key);
    check_grown(loaded_head.at(key), tensor);
  }
  // Without the growth the same load is refused as a vocabulary mismatch.
  auto strict = make_backbone("{type: lstm, embedding_dim: 8, hidden_size: 12, layers: 1}", kNew);
  CHECK_THROWS_AS(lmforge::load_part(*strict, checkpoint.string(), "backbone"), ConfigError);
}

TEST_CASE("transfer: init with vocabulary: extend adds the stage's frequent new words",
          "[transfer][init][vocabulary]") {
  const PretrainedRun& source = pretrained();
  const auto source_vocab = lmforge::Vocabulary::load((source.stage / "vocab.txt").string());
  TempDir dir;
  // Known words plus `zorblax` (3 times, kept with min_count 2) and `quux` (once, left out).
  std::ofstream(dir.path / "domain.txt")
      << "the zorblax runs quickly\nthe zorblax sleeps\na zorblax quux runs\n";
  run_recipe_text(dir,
                  "name: grow\n"
                  "seed: 3\n"
                  "threads: 1\n"
                  "stages:\n"
                  "  - name: lm_finetune\n"
                  "    init: {from: '" +
                      source.stage.string() +
                      "', parts: [tokenizer, backbone, head],\n"
                      "           vocabulary: extend, min_count: 2}\n"
                      "    task: {type: language_modeling, train: '" +
                      dir.str("domain.txt") +
                      "', bptt: 4}\n"
                      "    train: {epochs: 1, batch_size: 1, log_every: 1000}\n",
                  source.data);
  const fs::path stage = dir.path / "runs" / "grow" / "lm_finetune";
  const auto grown = lmforge::Vocabulary::load((stage / "vocab.txt").string());
  REQUIRE(grown.size() == source_vocab.size() + 1);
  CHECK(grown.token(source_vocab.size()) == "zorblax");
  CHECK_FALSE(grown.contains("quux"));
  for (std::int64_t id = 0; id < source_vocab.size(); ++id) {
    CHECK(grown.token(id) == source_vocab.token(id));
  }
  const Weights trained = weights_at(latest_checkpoint(stage));
  CHECK(trained.backbone.at("embedding.weight").size(0) == grown.size());

  SECTION("extend without the source's tokenizer is a recipe error") {
    TempDir other;
    CHECK_THROWS_WITH(run_recipe_text(other,
                                      "name: bad\nstages:\n  - name: s\n"
                                      "    init: {from: '" +
                                          source.stage.string() +
                                          "', parts: [backbone], vocabulary: extend}\n"
                                          "    task: {type: language_modeling, train: '" +
                                          dir.str("domain.txt") + "'}\n    head: {type: lm}\n",
                                      source.data),
                      Contains("init.parts must include tokenizer"));
  }
}

TEST_CASE("transfer: init refuses a backbone that does not fit, naming the part and both shapes",
          "[transfer][init]") {
  const PretrainedRun& source = pretrained();
  const Tensors pretrained_backbone = read_part(latest_checkpoint(source.stage), "backbone");
  const auto pretrained_vocab = pretrained_backbone.at("embedding.weight").size(0);

  SECTION("a different vocabulary: the backbone taken without its tokenizer") {
    TempDir dir;
    std::string message;
    try {
      run_recipe_text(dir, fine_tune_recipe("novocab", "backbone", "", "epochs: 1"), source.data);
      FAIL("a backbone trained on another vocabulary was loaded");
    } catch (const ConfigError& e) {
      message = e.what();
    }
    // This stage's own vocabulary, fitted on the labelled text only, is much smaller.
    std::ifstream vocab(dir.path / "runs" / "novocab" / "tune" / "vocab.txt");
    std::int64_t stage_vocab = 0;
    for (std::string line; std::getline(vocab, line);) ++stage_vocab;
    REQUIRE(stage_vocab > 0);
    REQUIRE(stage_vocab != pretrained_vocab);
    INFO(message);
    CHECK_THAT(message, Contains("backbone") && Contains("embedding.weight") &&
                            Contains("[" + std::to_string(pretrained_vocab) + ", 16]") &&
                            Contains("[" + std::to_string(stage_vocab) + ", 16]"));
    // The fix is named too: take the tokenizer the backbone was trained with.
    CHECK_THAT(message, Contains("tokenizer"));
    CHECK_FALSE(fs::exists(dir.path / "runs" / "novocab" / "tune" / "checkpoints"));
  }
  SECTION("a different hidden_size") {
    TempDir dir;
    std::string message;
    try {
      run_recipe_text(
          dir,
          fine_tune_recipe(
              "narrow", "tokenizer, backbone",
              "    backbone: {type: lstm, embedding_dim: 16, hidden_size: 20, layers: 2}\n",
              "epochs: 1"),
          source.data);
      FAIL("a backbone with another hidden_size was loaded");
    } catch (const ConfigError& e) {
      message = e.what();
    }
    INFO(message);
    // lstm0's recurrent weight is [4 x hidden, hidden]: [96, 24] pre-trained, [80, 20] here.
    CHECK_THAT(message, Contains("backbone") && Contains("lstm0.weight_hh_l0") &&
                            Contains("[96, 24]") && Contains("[80, 20]"));
    CHECK_FALSE(fs::exists(dir.path / "runs" / "narrow" / "tune" / "checkpoints"));
  }
}

TEST_CASE("transfer: a pre-trained backbone beats the same backbone from scratch with few labels",
          "[transfer]") {
  load_build_plugins();
  const auto started = std::chrono::steady_clock::now();
  TempDir dir;
  fs::path data = dir.path / "data";
  CorpusSizes sizes;
  sizes.unlabelled_sentences = 4000;
  sizes.words_per_class = 24;
  sizes.seen_words_per_class = 4;
  sizes.train_sentences_per_seen_word = 4;
  sizes.test_sentences_per_unseen_word = 4;
  write_two_class_corpus(data, sizes, 17);

  const std::string backbone =
      "{type: lstm, embedding_dim: 16, hidden_size: 32, layers: 2, dropout: 0.1}";
  run_recipe_text(dir,
                  "name: lm\n"
                  "seed: 1\n"
                  "threads: 1\n"
                  "stages:\n"
                  "  - name: pretrain\n"
                  "    task: {type: language_modeling, train: '${data}/unlabelled.txt', bptt: 16}\n"
                  "    backbone: " +
                      backbone +
                      "\n"
                      // Untied on purpose: in a model this small, tying makes every content
                      // word's row serve as the same output slot ("a noun comes next"), the rows
                      // collapse onto one vector (cosine 0.99 between classes) and the model
                      // stays at the class-blind perplexity; untied, the input rows learn the
                      // classes within a few epochs.
                      "    head: {type: lm, tie_weights: false}\n"
                      "    train: {epochs: 12, batch_size: 32, log_every: 1000,\n"
                      "            optimizer: {type: adamw, lr: 0.01}}\n",
                  data);
  const fs::path pretrain = dir.path / "runs" / "lm" / "pretrain";

  // Identical stages but for the backbone's starting weights: the same vocabulary (the
  // pre-training one, so test words are not all <unk> for either), labels, seed and settings.
  // Both keep the embedding table frozen: an unseen word's row gets no gradient anyway, and a
  // frozen table keeps the seen words beside their unseen classmates instead of letting the
  // classifier memorise the few labelled words by moving their rows alone.
  auto classify = [&](const std::string& name, const std::string& parts) {
    run_recipe_text(dir,
                    "name: " + name +
                        "\n"
                        "seed: 2\n"
                        "threads: 1\n"
                        "stages:\n"
                        "  - name: classify\n"
                        "    init: {from: '" +
                        pretrain.string() + "', parts: [" + parts +
                        "]}\n"
                        "    task: {type: classification, format: tsv,\n"
                        "           train: '${data}/train.tsv', test: '${data}/test.tsv'}\n"
                        "    backbone: " +
                        backbone +
                        "\n"
                        "    head: {type: classifier, pooling: concat}\n"
                        "    train: {epochs: 30, batch_size: 8, log_every: 1000,\n"
                        "            freeze: [backbone.0], optimizer: {type: adamw, lr: 0.01}}\n",
                    data);
    return logged_metric(dir.path / "runs" / name / "classify", "test", "accuracy");
  };
  const double pretrained_accuracy = classify("pretrained", "tokenizer, backbone");
  const double scratch_accuracy = classify("scratch", "tokenizer");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "few-label transfer on words never seen with a label: pre-trained accuracy "
            << pretrained_accuracy << ", from scratch " << scratch_accuracy << " (chance 0.5), "
            << seconds << " s\n";
  // Test words never occur in a labelled sentence, so scratch has nothing but luck; the
  // pre-trained body learned their classes from the unlabelled text.
  CHECK(pretrained_accuracy >= 0.85);
  CHECK(pretrained_accuracy - scratch_accuracy >= 0.25);
}
