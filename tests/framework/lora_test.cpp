// LoRA adapters (issue 12): B = 0 leaves the model bit for bit as it was, the adapter gradients
// are the chain rule's, a training run moves only the adapters and the head, unmerge restores
// the weights exactly, the adapter checkpoint holds A and B only and `lmforge merge` folds them
// in; a target matching nothing and a rank too large are refused by name.
#include "adapters/lora.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "models/transformer/transformer.h"
#include "recipe/recipe.h"
#include "recipe/run_recipe.h"
#include "support/build_plugins.h"
#include "support/temp_dir.h"
#include "train/checkpoint.h"
#include "train/stage_artifacts.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using lmforge::AdapterSpec;
using lmforge::LoraAdapters;
using lmforge::test::TempDir;

namespace {

lmforge::TransformerOptions small_transformer() {
  lmforge::TransformerOptions o;
  o.layers = 2;
  o.heads = 2;
  o.width = 16;
  o.dropout = 0.0;
  o.max_positions = 12;
  return o;
}

AdapterSpec lora(std::int64_t rank, std::vector<std::string> targets) {
  AdapterSpec spec;
  spec.type = "lora";
  spec.rank = rank;
  spec.alpha = 2.0 * static_cast<double>(rank);
  spec.targets = std::move(targets);
  return spec;
}

std::map<std::string, torch::Tensor> snapshot(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : module.named_parameters())
    out[item.key()] = item.value().detach().clone();
  return out;
}

}  // namespace

TEST_CASE("lora: targets by layer name and by glob, and refusals that list what exists", "[lora]") {
  torch::manual_seed(1);
  lmforge::TransformerBackbone body(small_transformer(), {30, 0});
  LoraAdapters by_layer(body, lora(2, {"qkv", "proj", "ff_in", "ff_out"}), "recipe.yaml:3:5");
  CHECK(by_layer.targets().size() == 8);  // 4 matrices in each of 2 blocks
  LoraAdapters by_glob(body, lora(2, {"blocks.1.*.weight"}), "recipe.yaml:3:5");
  // blocks.1: qkv, proj, ff_in, ff_out (the norms' weights are vectors, not matrices)
  CHECK(by_glob.targets().size() == 4);
  CHECK(LoraAdapters::matches("qkv", "blocks.0.qkv.weight"));
  CHECK_FALSE(LoraAdapters::matches("qkv", "blocks.0.qkv.bias"));

  CHECK_THROWS_MATCHES(LoraAdapters(body, lora(2, {"query"}), "recipe.yaml:3:5"),
                       lmforge::ConfigError,
                       Catch::Matchers::Predicate<lmforge::ConfigError>([](const auto& e) {
                         std::string m = e.what();
                         return m.find("'query' matches no weight matrix") != std::string::npos &&
                                m.find("blocks.0.qkv.weight") != std::string::npos &&
                                m.find("recipe.yaml:3:5 adapters.targets") != std::string::npos;
                       }));
  // proj is 16 x 16: rank 17 cannot be.
  CHECK_THROWS_WITH(LoraAdapters(body, lora(17, {"proj"}), "r.yaml:1:1"),
                    Contains("rank 17 is larger than 'blocks.0.proj.weight' [16, 16] allows "
                             "(at most 16)"));
}

TEST_CASE("lora: with B = 0 the outputs are bit-identical to the base model", "[lora]") {
  torch::manual_seed(2);
  lmforge::TransformerBackbone body(small_transformer(), {30, 0});
  body.eval();
  auto tokens = torch::randint(1, 30, {3, 10}, torch::kLong);
  auto before = body.forward({tokens, {}, {}}).sequence.clone();
  LoraAdapters adapters(body, lora(4, {"qkv", "proj", "ff_in", "ff_out"}), "r");
  adapters.refresh();
  auto after = body.forward({tokens, {}, {}}).sequence;
  CHECK(torch::equal(before, after));
}

namespace {

/// One matrix, for checking the adapter gradients against autograd through W0 + s·B·A itself.
class OneLinear : public lmforge::Backbone {
 public:
  OneLinear() { proj = register_module("proj", torch::nn::Linear(6, 5)); }
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    return {proj->forward(input.tokens.to(torch::kFloat)), {}, {}};
  }
  std::int64_t output_size() const override { return 5; }
  torch::Tensor input_embedding() override { return {}; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {parameters()}; }
  torch::nn::Linear proj{nullptr};
};

}  // namespace

TEST_CASE("lora: adapter gradients equal autograd's through W0 + s*B*A", "[lora]") {
  torch::manual_seed(3);
  OneLinear body;
  LoraAdapters adapters(body, lora(2, {"proj"}), "r");
  const auto& t = adapters.targets().front();
  {
    torch::NoGradGuard no_grad;
    t.b.normal_();  // a non-zero B, so both gradients are non-trivial
  }
  adapters.refresh();
  adapters.set_targets_trainable(true);
  auto x = torch::randn({7, 6});
  auto target = torch::randn({7, 5});
  auto loss = (body.proj->forward(x) - target).pow(2).sum();
  loss.backward();
  adapters.collect_gradients();
  CHECK_FALSE(t.weight.grad().defined());  // W itself is never stepped

  // The reference: the same loss written with the low-rank product, differentiated by autograd.
  auto a = t.a.detach().clone().requires_grad_(true);
  auto b = t.b.detach().clone().requires_grad_(true);
  auto w = t.base + adapters.scale() * torch::mm(b, a);
  auto reference = (torch::linear(x, w, body.proj->bias.detach()) - target).pow(2).sum();
  reference.backward();
  CHECK(torch::allclose(t.a.grad(), a.grad(), 1e-5, 1e-5));
  CHECK(torch::allclose(t.b.grad(), b.grad(), 1e-5, 1e-5));
}

TEST_CASE("lora: unmerge restores the weights exactly", "[lora]") {
  torch::manual_seed(4);
  lmforge::TransformerBackbone body(small_transformer(), {30, 0});
  auto original = snapshot(body);
  LoraAdapters adapters(body, lora(3, {"qkv", "ff_out"}), "r");
  {
    torch::NoGradGuard no_grad;
    for (auto& t : adapters.targets()) torch::Tensor(t.b).normal_();
  }
  adapters.refresh();  // merged: W = W0 + s·B·A
  auto merged = snapshot(body);
  CHECK_FALSE(torch::equal(merged["blocks.0.qkv.weight"], original["blocks.0.qkv.weight"]));
  CHECK(torch::equal(merged["blocks.0.proj.weight"], original["blocks.0.proj.weight"]));
  adapters.unmerge();
  for (const auto& [name, value] : snapshot(body)) {
    INFO(name);
    CHECK(torch::equal(value, original[name]));
  }
}

namespace {

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& line : lines) out << line << "\n";
}

/// Sentences whose class is the word after "the": enough for a language model and a classifier.
void write_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  std::vector<std::string> text, labelled;
  const std::vector<std::string> animals{"cat", "dog", "fox"}, tools{"saw", "drill", "hammer"};
  for (int i = 0; i < 60; ++i) {
    const std::string& a = animals[i % 3];
    const std::string& t = tools[(i / 3) % 3];
    text.push_back("the " + a + " runs and the " + t + " cuts wood");
    labelled.push_back(
        std::string(i % 2 ? "animal\tthe " + a + " sleeps" : "tool\tthe " + t + " sleeps"));
  }
  write_lines(dir / "text.txt", text);
  write_lines(dir / "train.tsv", labelled);
}

std::string recipe(const std::string& adapters) {
  return "name: lora\n"
         "seed: 1\n"
         "threads: 1\n"
         "stages:\n"
         "  - name: pretrain\n"
         "    task: {type: language_modeling, train: '${data}/text.txt', bptt: 8}\n"
         "    backbone: {type: transformer, layers: 2, heads: 2, width: 16, max_positions: 16,\n"
         "               dropout: 0}\n"
         "    head: {type: lm, tie_weights: true}\n"
         "    train: {epochs: 1, batch_size: 4, log_every: 1000,\n"
         "            optimizer: {type: adamw, lr: 0.01}}\n"
         "  - name: tune\n"
         "    init: {from: pretrain, parts: [tokenizer, backbone]}\n"
         "    task: {type: classification, format: tsv, train: '${data}/train.tsv'}\n"
         "    head: {type: classifier, pooling: mean}\n" +
         adapters +
         "    train: {epochs: 2, batch_size: 8, log_every: 1000,\n"
         "            optimizer: {type: adamw, lr: 0.01, weight_decay: 0.1}}\n";
}

lmforge::RecipeSpec load(const TempDir& dir, const std::string& text) {
  lmforge::RecipeContext context;
  context.data_dir = (dir.path / "data").string();
  context.out_dir = (dir.path / "runs").string();
  return lmforge::load_recipe(dir.file("recipe.yaml", text), context);
}

std::map<std::string, torch::Tensor> read_archive(const std::string& checkpoint,
                                                  const std::string& file) {
  torch::serialize::InputArchive archive;
  lmforge::read_checkpoint_archive(checkpoint, file, archive);
  std::map<std::string, torch::Tensor> out;
  for (const auto& key : archive.keys()) archive.read(key, out[key]);
  return out;
}

}  // namespace

TEST_CASE("lora: a stage trains only adapters and head, saves them alone, and merges",
          "[lora][slow]") {
  lmforge::test::load_build_plugins();
  TempDir dir("lora");
  write_corpus(dir.path / "data");
  lmforge::run_recipe(load(dir, recipe("    adapters: {type: lora, rank: 2, alpha: 4,\n"
                                       "               targets: [qkv, proj, ff_in, ff_out]}\n")),
                      {});
  const fs::path base_stage = dir.path / "runs" / "lora" / "pretrain";
  const fs::path stage = dir.path / "runs" / "lora" / "tune";
  auto base = *lmforge::CheckpointStore(base_stage.string()).latest();
  auto latest = *lmforge::CheckpointStore(stage.string()).latest();

  // The adapter checkpoint: A and B of the 8 targets, nothing else, and no backbone.pt.
  auto stored = read_archive(latest, "adapter.pt");
  CHECK(stored.size() == 16);
  for (const auto& [key, value] : stored) {
    INFO(key);
    CHECK((key.size() > 7 &&
           (key.substr(key.size() - 7) == ".lora_A" || key.substr(key.size() - 7) == ".lora_B")));
  }
  CHECK_FALSE(fs::exists(fs::path(latest) / "backbone.pt"));
  auto meta = lmforge::CheckpointStore::read_meta(latest);
  CHECK(meta.adapter_only);
  CHECK(fs::equivalent(meta.base, base));

  // Loaded on top of the base: the untargeted parameters are the base's bit for bit, every
  // target moved (B left zero), and the head trained.
  auto base_backbone = read_archive(base, "backbone.pt");
  lmforge::LoadedStage loaded = lmforge::load_stage(stage.string());
  auto adapted = snapshot(loaded.model->backbone());
  for (const auto& [name, value] : adapted) {
    INFO(name);
    bool target = false;
    for (const char* layer : {"qkv", "proj", "ff_in", "ff_out"}) {
      target = target || LoraAdapters::matches(layer, name);
    }
    if (target) {
      CHECK_FALSE(torch::equal(value, base_backbone[name]));
    } else {
      CHECK(torch::equal(value, base_backbone[name]));
    }
  }
  for (const auto& [key, b] : stored) {
    if (key.substr(key.size() - 1) == "B") CHECK(b.abs().sum().item<double>() > 0);
  }

  // A later stage initialised from the adapter stage gets the adapted backbone.
  {
    TempDir later("lora_later");
    lmforge::RecipeContext context;
    context.data_dir = (dir.path / "data").string();
    context.out_dir = (later.path / "runs").string();
    lmforge::RunOptions options;
    auto next = lmforge::load_recipe(
        later.file(
            "recipe.yaml",
            "name: next\n"
            "seed: 1\n"
            "threads: 1\n"
            "stages:\n"
            "  - name: again\n"
            "    init: {from: '" +
                stage.string() +
                "', parts: [tokenizer, backbone]}\n"
                "    task: {type: classification, format: tsv, train: '${data}/train.tsv'}\n"
                "    head: {type: classifier, pooling: mean}\n"
                "    train: {epochs: 1, batch_size: 8, log_every: 1000, freeze: [backbone]}\n"),
        context);
    lmforge::run_recipe(next, options);
    auto again = lmforge::load_stage((later.path / "runs" / "next" / "again").string());
    for (const auto& [name, value] : snapshot(again.model->backbone())) {
      INFO(name);
      CHECK(torch::equal(value, adapted[name]));
    }
  }

  // lmforge merge: the checkpoint gets the adapted backbone and loads without the adapters.
  CHECK(lmforge::cli::merge_command({stage.string()}) == 0);
  CHECK_FALSE(lmforge::CheckpointStore::read_meta(latest).adapter_only);
  lmforge::LoadedStage merged = lmforge::load_stage(stage.string());
  for (const auto& [name, value] : snapshot(merged.model->backbone())) {
    INFO(name);
    CHECK(torch::equal(value, adapted[name]));
  }
  CHECK_THROWS_WITH(lmforge::cli::merge_command({stage.string()}),
                    Contains("holds no adapters to merge"));
}

TEST_CASE("lora: --resume from an adapter checkpoint ends as the uninterrupted run",
          "[lora][slow]") {
  lmforge::test::load_build_plugins();
  TempDir dir("lora_resume");
  write_corpus(dir.path / "data");
  const std::string text =
      recipe("    adapters: {type: lora, rank: 2, alpha: 4, targets: [qkv, ff_out]}\n");
  lmforge::run_recipe(load(dir, text), {});
  const fs::path stage = dir.path / "runs" / "lora" / "tune";
  lmforge::CheckpointStore store(stage.string());
  auto names = store.checkpoint_names();
  REQUIRE(names.size() == 2);  // after epoch 1, final
  auto uninterrupted = read_archive(*store.latest(), "adapter.pt");
  auto head = read_archive(*store.latest(), "head.pt");

  // As if the run had stopped after epoch 1: its checkpoint is the newest, the stage unfinished.
  fs::remove_all(stage / "checkpoints" / names[1]);
  fs::remove(stage / "done");
  std::ofstream(stage / "checkpoints" / "latest") << names[0] << "\n";
  lmforge::RunOptions resume;
  resume.resume = true;
  lmforge::run_recipe(load(dir, text), resume);

  auto resumed = read_archive(*store.latest(), "adapter.pt");
  REQUIRE(resumed.size() == uninterrupted.size());
  for (const auto& [key, value] : uninterrupted) {
    INFO(key);
    CHECK(torch::equal(resumed[key], value));
  }
  for (const auto& [key, value] : read_archive(*store.latest(), "head.pt")) {
    INFO(key);
    CHECK(torch::equal(head[key], value));
  }
}

TEST_CASE("lora: recipes that cannot work are refused before training", "[lora]") {
  lmforge::test::load_build_plugins();
  TempDir dir("lora_bad");
  write_corpus(dir.path / "data");
  auto refused = [&](const std::string& adapters) {
    try {
      lmforge::validate_recipe(load(dir, recipe(adapters)));
    } catch (const lmforge::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(refused("    adapters: {type: lora, rank: 2, targets: [attention]}\n"),
             Contains("'attention' matches no weight matrix of the backbone") &&
                 Contains("blocks.0.ff_in.weight"));
  CHECK_THAT(refused("    adapters: {type: lora, rank: 99, targets: [proj]}\n"),
             Contains("rank 99 is larger than 'blocks.0.proj.weight' [16, 16]"));
  CHECK_THAT(refused("    adapters: {type: lora, rank: 2, dropout: 0.1, targets: [proj]}\n"),
             Contains("dropout"));
  CHECK_THAT(refused("    adapters: {type: lora, rank: 2, targets: []}\n"),
             Contains("adapters.targets") && Contains("name at least one weight matrix"));
  CHECK_THAT(refused("    adapters: {type: lora, rnak: 2, targets: [proj]}\n"),
             Contains("rnak") && Contains("rank"));
}
