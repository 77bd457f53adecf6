// `lmforge new plugin NAME --kind backbone|head|task [--dir DIR]`: writes a plugin project that
// builds against the installed SDK (find_package(lmforge) + lmforge_add_plugin), with a Catch2 test
// and a recipe that trains with the plugin on data the recipe generates itself.
//
// The templates live here, as raw strings, so the CLI needs no data files at run time and a
// template can never go missing from an install. The SDK test (tests/sdk/) builds and runs them.
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "cli_options.h"
#include "config/suggest.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "plugins/plugin_loader.h"

namespace lmforge::cli {
namespace {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Shared by every kind. @name@ is the plugin's registered name, @Class@ its C++ class.

constexpr const char* kCMakeLists =
    R"tmpl(# Builds the @name@ plugin against an installed lmforge SDK:
#   cmake -S . -B build -DCMAKE_PREFIX_PATH=<lmforge prefix> && cmake --build build
# then build/@name@.so is loaded with `lmforge run recipe.yaml --plugin-path build`.
cmake_minimum_required(VERSION 3.18)
project(@name@ LANGUAGES CXX)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  # Unoptimised LibTorch code trains many times slower.
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

find_package(lmforge REQUIRED)
# @name@.so (exports only the plugin handshake) and @name@_static (the same code, for tests).
lmforge_add_plugin(@name@ SOURCES @name@.cpp)

# The plugin's Catch2 test (v2 or v3), run by `ctest` in the build folder.
find_package(Catch2 QUIET)
if(Catch2_FOUND)
  enable_testing()
  add_executable(@name@_test @name@_test.cpp)
  if(TARGET Catch2::Catch2WithMain)
    target_link_libraries(@name@_test PRIVATE @name@_static Catch2::Catch2WithMain)
  else()
    target_link_libraries(@name@_test PRIVATE @name@_static Catch2::Catch2)
  endif()
  add_test(NAME @name@_test COMMAND @name@_test)
else()
  message(STATUS "Catch2 not found: @name@_test is not built")
endif()
)tmpl";

constexpr const char* kGitignore = R"tmpl(build/
runs/
)tmpl";

constexpr const char* kTestPrelude =
    R"tmpl(#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 v3: main() comes from Catch2::Catch2WithMain
#else
#define CATCH_CONFIG_MAIN  // Catch2 v2: this file provides main()
#include <catch2/catch.hpp>
#endif
)tmpl";

// ---------------------------------------------------------------------------------------------
// backbone: token embedding + stacked GRU.

constexpr const char* kBackboneHeader = R"tmpl(#pragma once
// @name@: a word-level GRU backbone.
// Token embedding, stacked GRU layers, dropout. Written by `lmforge new plugin`; make it yours.
// In a recipe:
//
//   backbone: {type: @name@, hidden_size: 128, layers: 2}
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/rnn.h>

#include <cstdint>
#include <vector>

#include "lmforge/backbone.h"
#include "lmforge/options.h"

namespace @name@_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct @Class@Options {
  std::int64_t embedding_dim = 64;
  std::int64_t hidden_size = 128;
  std::int64_t layers = 2;
  double dropout = 0.1;

  void visit(lmforge::OptionVisitor& v) {
    v.field("embedding_dim", embedding_dim, "width of the token embedding").positive();
    v.field("hidden_size", hidden_size, "units per GRU layer (the features' width)").positive();
    v.field("layers", layers, "number of stacked GRU layers").positive();
    v.field("dropout", dropout, "dropout on the embedding, between layers and on the output")
        .range(0.0, 1.0);
  }
};

// Features: sequence [B,T,hidden_size]. State: one [1,B,hidden_size] tensor per layer, carried from
// one BPTT window to the next by the language-modelling task.
class @Class@ : public lmforge::Backbone {
 public:
  using Options = @Class@Options;

  @Class@(const Options& options, const lmforge::BackboneContext& context);

  lmforge::Features forward(const lmforge::BackboneInput& input) override;
  std::int64_t output_size() const override { return options_.hidden_size; }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override;

 private:
  Options options_;
  torch::nn::Embedding embedding_{nullptr};
  // One module per layer rather than one stacked GRU: each layer is then its own group for
  // freezing, gradual unfreezing and discriminative learning rates.
  std::vector<torch::nn::GRU> layers_;
};

}  // namespace @name@_plugin
)tmpl";

constexpr const char* kBackboneSource = R"tmpl(#include "@name@.h"

#include <string>

#include "lmforge/error.h"
#include "lmforge/plugin.h"

namespace @name@_plugin {

@Class@::@Class@(const Options& options, const lmforge::BackboneContext& context) : options_(options) {
  if (context.vocab_size <= 0) {
    throw lmforge::ConfigError("backbone @name@", "needs a non-empty vocabulary, got size " +
                                                      std::to_string(context.vocab_size));
  }
  auto embedding = torch::nn::EmbeddingOptions(context.vocab_size, options.embedding_dim);
  // The padding row stays zero and gets no gradient, so padded batches train like unpadded ones.
  if (context.padding_id >= 0 && context.padding_id < context.vocab_size) {
    embedding.padding_idx(context.padding_id);
  }
  embedding_ = register_module("embedding", torch::nn::Embedding(embedding));
  for (std::int64_t i = 0; i < options.layers; ++i) {
    const std::int64_t in = i == 0 ? options.embedding_dim : options.hidden_size;
    layers_.push_back(register_module(
        "gru" + std::to_string(i),
        torch::nn::GRU(torch::nn::GRUOptions(in, options.hidden_size).batch_first(true))));
  }
}

lmforge::Features @Class@::forward(const lmforge::BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "@name@ expects tokens [B,T], got ", input.tokens.sizes());
  TORCH_CHECK(input.state.empty() || input.state.size() == layers_.size(),
              "@name@ expects one state tensor per layer (", layers_.size(), "), got ",
              input.state.size());
  const double p = options_.dropout;
  const bool train = is_training();
  torch::Tensor x = torch::dropout(embedding_->forward(input.tokens), p, train);
  lmforge::State state;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    torch::Tensor h0 = input.state.empty() ? torch::Tensor() : input.state[i];
    auto [output, h] = layers_[i]->forward(x, h0);
    state.push_back(h);
    x = torch::dropout(output, p, train);
  }
  return lmforge::Features{x, input.mask, std::move(state)};
}

std::vector<std::vector<torch::Tensor>> @Class@::layer_groups() {
  std::vector<std::vector<torch::Tensor>> groups{embedding_->parameters()};
  for (auto& layer : layers_) groups.push_back(layer->parameters());
  return groups;
}

}  // namespace @name@_plugin

// The one exported entry point: the loader checks the plugin ABI and LibTorch version this file was
// compiled with, then calls this to register the component under the name recipes use.
LMFORGE_PLUGIN(@name@) {
  reg.backbone<@name@_plugin::@Class@>(
      "@name@", "word-level GRU: token embedding, stacked GRU layers, dropout");
}
)tmpl";

constexpr const char* kBackboneTest =
    R"tmpl(// Tests of the @name@ backbone; `ctest` in the build folder runs them.
#include "@name@.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <set>
#include <vector>

#include "lmforge/error.h"
@test_prelude@
namespace {

using Backbone = @name@_plugin::@Class@;
constexpr std::int64_t kVocab = 30;

Backbone::Options small_options() {
  Backbone::Options options;
  options.embedding_dim = 8;
  options.hidden_size = 12;
  options.layers = 2;
  options.dropout = 0.0;
  return options;
}

using Sizes = std::vector<std::int64_t>;

}  // namespace

TEST_CASE("@name@: features are [B,T,hidden_size], one state tensor per layer") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), lmforge::BackboneContext{kVocab, 0});
  auto tokens = torch::randint(1, kVocab, {3, 5}, torch::kLong);
  lmforge::Features features = backbone.forward({tokens, {}, {}});
  CHECK(features.sequence.sizes().vec() == Sizes{3, 5, 12});
  REQUIRE(features.state.size() == 2);
  CHECK(features.state[1].sizes().vec() == Sizes{1, 3, 12});
  CHECK(backbone.output_size() == 12);
  CHECK(backbone.input_embedding().sizes().vec() == Sizes{kVocab, 8});
}

TEST_CASE("@name@: carrying the state across windows equals one pass") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), lmforge::BackboneContext{kVocab, 0});
  auto tokens = torch::randint(1, kVocab, {2, 8}, torch::kLong);
  auto whole = backbone.forward({tokens, {}, {}}).sequence;
  auto first = backbone.forward({tokens.narrow(1, 0, 5), {}, {}});
  auto second = backbone.forward({tokens.narrow(1, 5, 3), {}, first.state});
  CHECK(torch::allclose(torch::cat({first.sequence, second.sequence}, 1), whole, 1e-5, 1e-6));
}

TEST_CASE("@name@: each parameter is in one layer group and gets a gradient") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), lmforge::BackboneContext{kVocab, 0});
  auto groups = backbone.layer_groups();
  CHECK(groups.size() == 3);  // embedding + 2 layers
  std::set<const void*> grouped;
  for (const auto& group : groups) {
    for (const auto& p : group) CHECK(grouped.insert(p.data_ptr()).second);
  }
  CHECK(grouped.size() == backbone.parameters().size());

  auto tokens = torch::randint(1, kVocab, {2, 6}, torch::kLong);
  backbone.forward({tokens, {}, {}}).sequence.pow(2).sum().backward();
  for (const auto& p : backbone.parameters()) {
    REQUIRE(p.grad().defined());
    CHECK(p.grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("@name@: an empty vocabulary is a ConfigError, not a crash") {
  CHECK_THROWS_AS(Backbone(small_options(), lmforge::BackboneContext{0, 0}), lmforge::ConfigError);
}
)tmpl";

constexpr const char* kBackboneRecipe =
    R"tmpl(# @name@: pre-train the @name@ backbone as a language model, then swap the lm head for a
# classifier and fine-tune it on the few labelled sentences. The data is generated on the spot.
#
#   lmforge run recipe.yaml --plugin-path build        (after building the plugin into build/)
name: @name@
seed: 7
generate_data: {type: toy_grammar, sentences: 3000, seed: 3, labelled_fraction: 0.2}
# plugins: ["${recipe_dir}/build/@name@.so"]   # or name the plugin here, not with --plugin-path

stages:
  - name: pretrain
    task:
      type: language_modeling
      train: ${run}/data/train.txt
      valid: ${run}/data/valid.txt
      test: ${run}/data/test.txt
      bptt: 20
    tokenizer: {type: word, lowercase: true}
    backbone: {type: @name@, embedding_dim: 32, hidden_size: 64, layers: 2, dropout: 0.1}
    # Tying the output to the embedding needs hidden_size == embedding_dim.
    head: {type: lm, tie_weights: false}
    train:
      epochs: 1
      batch_size: 16
      optimizer: {type: adamw, lr: 3e-3}
      clip_grad_norm: 0.5
      log_every: 20

  # The head is swapped: the pre-trained backbone (and vocabulary) carry over, the classifier
  # starts fresh.
  - name: classify
    init: {from: pretrain, parts: [tokenizer, backbone]}
    task:
      type: classification
      format: tsv
      train: ${run}/data/labelled/train.tsv
      valid: ${run}/data/labelled/valid.tsv
      test: ${run}/data/labelled/test.tsv
    head: {type: classifier, pooling: concat, dropout: 0.1}
    train:
      epochs: 2
      batch_size: 16
      optimizer: {type: adamw, lr: 3e-3}
      log_every: 20
)tmpl";

// ---------------------------------------------------------------------------------------------
// head: masked mean pooling + optional hidden layer + linear classifier.

constexpr const char* kHeadHeader = R"tmpl(#pragma once
// @name@: a sequence classifier head.
// The mean of the features over the real (unpadded) tokens, an optional ReLU hidden layer, then
// one logit per label. Written by `lmforge new plugin`; make it yours. In a recipe (with any
// backbone, e.g. one pre-trained by an earlier stage):
//
//   head: {type: @name@, hidden_size: 64}
#include <torch/nn/modules/linear.h>

#include <cstdint>

#include "lmforge/head.h"
#include "lmforge/options.h"

namespace @name@_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct @Class@Options {
  std::int64_t hidden_size = 64;
  double dropout = 0.1;

  void visit(lmforge::OptionVisitor& v) {
    v.field("hidden_size", hidden_size, "units in the ReLU hidden layer (0 = none)").non_negative();
    v.field("dropout", dropout, "dropout on the pooled features and the hidden layer")
        .range(0.0, 1.0);
  }
};

// [B,T,H] features -> [B,num_outputs] logits. The loss is the base class's cross-entropy
// (targets -100 ignored); override `loss` for another one.
class @Class@ : public lmforge::Head {
 public:
  using Options = @Class@Options;

  @Class@(const Options& options, const lmforge::HeadContext& context);

  torch::Tensor forward(const lmforge::Features& features) override;

 private:
  Options options_;
  torch::nn::Linear hidden_{nullptr};
  torch::nn::Linear output_{nullptr};
};

}  // namespace @name@_plugin
)tmpl";

constexpr const char* kHeadSource = R"tmpl(#include "@name@.h"

#include <string>

#include "lmforge/error.h"
#include "lmforge/plugin.h"

namespace @name@_plugin {

@Class@::@Class@(const Options& options, const lmforge::HeadContext& context) : options_(options) {
  if (context.input_size <= 0 || context.num_outputs <= 0) {
    throw lmforge::ConfigError("head @name@",
                               "needs a positive feature width and label count, got " +
                                   std::to_string(context.input_size) + " and " +
                                   std::to_string(context.num_outputs));
  }
  std::int64_t width = context.input_size;
  if (options.hidden_size > 0) {
    hidden_ = register_module("hidden", torch::nn::Linear(width, options.hidden_size));
    width = options.hidden_size;
  }
  output_ = register_module("output", torch::nn::Linear(width, context.num_outputs));
}

torch::Tensor @Class@::forward(const lmforge::Features& features) {
  const torch::Tensor& x = features.sequence;
  TORCH_CHECK(x.dim() == 3, "@name@ expects features [B,T,H], got ", x.sizes());
  torch::Tensor pooled;
  if (features.mask.defined()) {
    // Padding must not move the mean, or a sentence's label would depend on its batch-mates.
    auto weights = features.mask.to(x.scalar_type()).unsqueeze(-1);
    pooled = (x * weights).sum(1) / weights.sum(1).clamp_min(1);
  } else {
    pooled = x.mean(1);
  }
  const double p = options_.dropout;
  const bool train = is_training();
  pooled = torch::dropout(pooled, p, train);
  if (hidden_) pooled = torch::dropout(torch::relu(hidden_->forward(pooled)), p, train);
  return output_->forward(pooled);
}

}  // namespace @name@_plugin

// The one exported entry point: the loader checks the plugin ABI and LibTorch version this file was
// compiled with, then calls this to register the component under the name recipes use.
LMFORGE_PLUGIN(@name@) {
  reg.head<@name@_plugin::@Class@>(
      "@name@", "sequence classifier: masked mean pooling, ReLU hidden layer, linear");
}
)tmpl";

constexpr const char* kHeadTest =
    R"tmpl(// Tests of the @name@ head; `ctest` in the build folder runs them.
#include "@name@.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <vector>

#include "lmforge/error.h"
@test_prelude@
namespace {

using Head = @name@_plugin::@Class@;

Head::Options small_options() {
  Head::Options options;
  options.hidden_size = 6;
  options.dropout = 0.0;
  return options;
}

}  // namespace

TEST_CASE("@name@: one logit per label for each sequence") {
  torch::manual_seed(0);
  Head head(small_options(), lmforge::HeadContext{8, 3, nullptr});
  auto logits = head.forward({torch::randn({4, 5, 8}), {}, {}});
  CHECK(logits.sizes().vec() == std::vector<std::int64_t>{4, 3});
}

TEST_CASE("@name@: padded positions do not change the logits") {
  torch::manual_seed(0);
  Head head(small_options(), lmforge::HeadContext{8, 3, nullptr});
  head.eval();
  auto real = torch::randn({2, 3, 8});
  auto padded = torch::cat({real, 100 * torch::randn({2, 4, 8})}, 1);
  auto mask =
      torch::cat({torch::ones({2, 3}, torch::kBool), torch::zeros({2, 4}, torch::kBool)}, 1);
  auto expected = head.forward({real, {}, {}});
  auto got = head.forward({padded, mask, {}});
  CHECK(torch::allclose(got, expected, 1e-5, 1e-6));
}

TEST_CASE("@name@: the loss trains every parameter") {
  torch::manual_seed(0);
  Head head(small_options(), lmforge::HeadContext{8, 3, nullptr});
  auto logits = head.forward({torch::randn({4, 5, 8}), {}, {}});
  auto loss = head.loss(logits, torch::tensor({0, 1, 2, 1}, torch::kLong));
  CHECK(std::isfinite(loss.item<double>()));
  loss.backward();
  for (const auto& p : head.parameters()) {
    REQUIRE(p.grad().defined());
    CHECK(p.grad().abs().sum().item<double>() > 0);
  }
}

TEST_CASE("@name@: no labels is a ConfigError, not a crash") {
  CHECK_THROWS_AS(Head(small_options(), lmforge::HeadContext{8, 0, nullptr}), lmforge::ConfigError);
}
)tmpl";

constexpr const char* kHeadRecipe =
    R"tmpl(# @name@: pre-train the bundled lstm backbone as a language model, then swap its lm head for the
# @name@ head and fine-tune on the few labelled sentences. The data is generated on the spot.
#
#   lmforge run recipe.yaml --plugin-path build        (after building the plugin into build/)
name: @name@
seed: 7
generate_data: {type: toy_grammar, sentences: 3000, seed: 3, labelled_fraction: 0.2}
# plugins: ["${recipe_dir}/build/@name@.so"]   # or name the plugin here, not with --plugin-path

stages:
  - name: pretrain
    task:
      type: language_modeling
      train: ${run}/data/train.txt
      valid: ${run}/data/valid.txt
      test: ${run}/data/test.txt
      bptt: 20
    tokenizer: {type: word, lowercase: true}
    backbone: {type: lstm, embedding_dim: 32, hidden_size: 64, layers: 1, dropout: 0.1}
    head: {type: lm, tie_weights: true}
    train:
      epochs: 1
      batch_size: 16
      optimizer: {type: adamw, lr: 1e-2}
      clip_grad_norm: 0.5
      log_every: 20

  # The head is swapped: the pre-trained backbone (and vocabulary) carry over, @name@ starts fresh.
  - name: classify
    init: {from: pretrain, parts: [tokenizer, backbone]}
    task:
      type: classification
      format: tsv
      train: ${run}/data/labelled/train.tsv
      valid: ${run}/data/labelled/valid.tsv
      test: ${run}/data/labelled/test.tsv
    head: {type: @name@, hidden_size: 32, dropout: 0.1}
    train:
      epochs: 3
      batch_size: 16
      optimizer: {type: adamw, lr: 3e-3}
      log_every: 20
)tmpl";

// ---------------------------------------------------------------------------------------------
// task: next-token prediction over independent sentences in padded batches.

constexpr const char* kTaskHeader = R"tmpl(#pragma once
// @name@: next-token prediction over independent sentences.
// One sentence per line of a text file. Each batch pads whole sentences: input <bos> w1 .. wn,
// target w1 .. wn <eos>, padding ignored by the loss. Metrics: loss (nats/token), ppl and
// next-token accuracy. Works with any causal backbone and a per-token head such as lm. Written by
// `lmforge new plugin`; make it yours. In a recipe:
//
//   task: {type: @name@, train: data/train.txt, valid: data/valid.txt}
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/task.h"

namespace @name@_plugin {

// Declared once: defaults are the members' initial values; `visit` reads the recipe (rejecting
// unknown or mistyped keys with file:line:col) and is what `lmforge plugins --describe` prints.
struct @Class@Options {
  std::string train;
  std::string valid;
  std::string test;
  std::int64_t max_length = 64;

  void visit(lmforge::OptionVisitor& v) {
    v.field("train", train, "training text, one sentence per line").required();
    v.field("valid", valid, "validation text (evaluated each epoch)");
    v.field("test", test, "test text (evaluated at the end)");
    v.field("max_length", max_length, "longer sentences keep their first max_length tokens")
        .positive();
  }
};

using Sentences = std::vector<std::vector<std::int64_t>>;

struct Batch {
  torch::Tensor input;   // [B,T] <bos> + ids, right-padded with <pad>
  torch::Tensor target;  // [B,T] ids + <eos>, padding -100
  torch::Tensor mask;    // [B,T] true for real tokens
  std::int64_t tokens = 0;
};

/// Pads sentences[indices] into one batch.
Batch make_batch(const Sentences& sentences, const std::vector<std::size_t>& indices);

class @Class@ : public lmforge::Task {
 public:
  using Options = @Class@Options;

  @Class@(const Options& options, const lmforge::TaskContext& context);

  void prepare(lmforge::Tokenizer& tokenizer, bool fit_vocabulary) override;
  std::int64_t num_outputs() const override { return vocab_size_; }
  std::int64_t steps_per_epoch() const override;
  void start_epoch(std::int64_t epoch) override;
  lmforge::StepResult train_step(lmforge::Model& model, std::int64_t step) override;
  lmforge::Metrics evaluate(lmforge::Model& model, const std::string& split) override;
  std::vector<std::string> eval_splits() const override;
  std::string primary_metric() const override { return "ppl"; }
  bool higher_is_better() const override { return false; }

 private:
  torch::Tensor logits(lmforge::Model& model, const Batch& batch) const;

  Options options_;
  lmforge::TaskContext context_;
  std::int64_t vocab_size_ = 0;
  std::map<std::string, Sentences> splits_;
  std::vector<std::size_t> order_;  // training sentences in this epoch's order
};

}  // namespace @name@_plugin
)tmpl";

constexpr const char* kTaskSource = R"tmpl(#include "@name@.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include "lmforge/error.h"
#include "lmforge/plugin.h"
#include "lmforge/vocabulary.h"

namespace @name@_plugin {
namespace {

using lmforge::Vocabulary;

// Non-blank lines of a UTF-8 text file.
std::vector<std::string> read_lines(const std::string& path, const std::string& option,
                                    const std::string& place) {
  std::ifstream in(path);
  if (!in) throw lmforge::DataError(place, option + ": cannot read '" + path + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

Sentences encode(const lmforge::Tokenizer& tokenizer, const std::vector<std::string>& lines,
                 std::int64_t max_length) {
  Sentences sentences;
  for (const auto& line : lines) {
    auto ids = tokenizer.encode(line);
    if (ids.empty()) continue;
    if (static_cast<std::int64_t>(ids.size()) > max_length) {
      ids.resize(static_cast<std::size_t>(max_length));
    }
    sentences.push_back(std::move(ids));
  }
  return sentences;
}

}  // namespace

Batch make_batch(const Sentences& sentences, const std::vector<std::size_t>& indices) {
  std::size_t longest = 0;
  for (auto i : indices) longest = std::max(longest, sentences[i].size());
  const auto rows = static_cast<std::int64_t>(indices.size());
  const auto columns = static_cast<std::int64_t>(longest) + 1;
  Batch batch;
  batch.input = torch::full({rows, columns}, Vocabulary::kPad, torch::kLong);
  batch.target = torch::full({rows, columns}, -100, torch::kLong);
  auto input = batch.input.accessor<std::int64_t, 2>();
  auto target = batch.target.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto& ids = sentences[indices[r]];
    input[r][0] = Vocabulary::kBos;
    for (std::size_t t = 0; t < ids.size(); ++t) {
      input[r][t + 1] = ids[t];
      target[r][t] = ids[t];
    }
    target[r][ids.size()] = Vocabulary::kEos;
    batch.tokens += static_cast<std::int64_t>(ids.size()) + 1;
  }
  batch.mask = batch.target != -100;
  return batch;
}

@Class@::@Class@(const Options& options, const lmforge::TaskContext& context)
    : options_(options), context_(context) {}

void @Class@::prepare(lmforge::Tokenizer& tokenizer, bool fit_vocabulary) {
  const std::int64_t max_length = options_.max_length;
  auto train = read_lines(options_.train, "train", context_.place);
  if (fit_vocabulary) {
    for (const auto& line : train) tokenizer.count(line);
    tokenizer.build_vocabulary();
  }
  vocab_size_ = tokenizer.vocabulary().size();
  splits_["train"] = encode(tokenizer, train, max_length);
  if (splits_["train"].empty()) {
    throw lmforge::DataError(context_.place, "train: '" + options_.train + "' has no sentences");
  }
  for (const auto& [split, path] :
       {std::pair<std::string, std::string>{"valid", options_.valid}, {"test", options_.test}}) {
    if (!path.empty()) {
      splits_[split] = encode(tokenizer, read_lines(path, split, context_.place), max_length);
    }
  }
  start_epoch(0);
}

std::int64_t @Class@::steps_per_epoch() const {
  const auto n = static_cast<std::int64_t>(splits_.at("train").size());
  return (n + context_.batch_size - 1) / context_.batch_size;
}

void @Class@::start_epoch(std::int64_t epoch) {
  // The order depends only on the seed and the epoch, so a resumed run sees the same batches.
  order_.resize(splits_.at("train").size());
  std::iota(order_.begin(), order_.end(), 0);
  std::mt19937_64 rng(context_.seed * 1000003 + static_cast<std::uint64_t>(epoch));
  for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng() % i]);
}

torch::Tensor @Class@::logits(lmforge::Model& model, const Batch& batch) const {
  auto features = model.backbone().forward(
      {batch.input.to(context_.device), batch.mask.to(context_.device), {}});
  auto logits = model.head().forward(features);
  TORCH_CHECK(logits.dim() == 3, "task @name@ needs a per-token head such as lm; got logits ",
              logits.sizes());
  return logits;
}

lmforge::StepResult @Class@::train_step(lmforge::Model& model, std::int64_t step) {
  const auto begin = static_cast<std::size_t>(step * context_.batch_size);
  const auto end = std::min(order_.size(), begin + static_cast<std::size_t>(context_.batch_size));
  const std::vector<std::size_t> indices(order_.begin() + begin, order_.begin() + end);
  Batch batch = make_batch(splits_.at("train"), indices);
  auto loss = model.head().loss(logits(model, batch), batch.target.to(context_.device));
  return lmforge::StepResult{loss, batch.tokens, false};
}

lmforge::Metrics @Class@::evaluate(lmforge::Model& model, const std::string& split) {
  auto it = splits_.find(split);
  if (it == splits_.end() || it->second.empty()) return {};
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double nats = 0, correct = 0, tokens = 0;
  std::vector<std::size_t> indices;
  for (std::size_t start = 0; start < it->second.size(); start += context_.batch_size) {
    indices.resize(std::min<std::size_t>(context_.batch_size, it->second.size() - start));
    std::iota(indices.begin(), indices.end(), start);
    Batch batch = make_batch(it->second, indices);
    auto target = batch.target.to(context_.device);
    auto out = logits(model, batch);
    nats += model.head().loss(out, target).item<double>() * batch.tokens;
    correct += (out.argmax(-1) == target).sum().item<double>();
    tokens += batch.tokens;
  }
  model.train(was_training);
  const double loss = nats / tokens;
  return {{"loss", loss}, {"ppl", std::exp(loss)}, {"accuracy", correct / tokens}};
}

std::vector<std::string> @Class@::eval_splits() const {
  std::vector<std::string> splits;
  for (const char* split : {"valid", "test"}) {
    if (splits_.count(split)) splits.push_back(split);
  }
  return splits;
}

}  // namespace @name@_plugin

// The one exported entry point: the loader checks the plugin ABI and LibTorch version this file was
// compiled with, then calls this to register the component under the name recipes use.
LMFORGE_PLUGIN(@name@) {
  reg.task<@name@_plugin::@Class@>(
      "@name@", "next-token prediction over independent sentences (padded batches)");
}
)tmpl";

constexpr const char* kTaskTest =
    R"tmpl(// Tests of the @name@ task; `ctest` in the build folder runs them.
#include "@name@.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
@test_prelude@
namespace {

using Task = @name@_plugin::@Class@;
using lmforge::Vocabulary;

// Small stand-ins for the components a recipe would bring, so the task is tested on its own.
class Words : public lmforge::Tokenizer {
 public:
  Words() : Tokenizer(lmforge::VocabularyOptions{}) {}
  std::vector<std::string> split(std::string_view text) const override {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
      if (c != ' ') {
        word += c;
      } else if (!word.empty()) {
        words.push_back(word);
        word.clear();
      }
    }
    if (!word.empty()) words.push_back(word);
    return words;
  }
  std::string join(const std::vector<std::string>& tokens) const override {
    std::string text;
    for (const auto& t : tokens) text += (text.empty() ? "" : " ") + t;
    return text;
  }
};

class Bigram : public lmforge::Backbone {
 public:
  explicit Bigram(std::int64_t vocab) {
    embedding_ = register_module("embedding", torch::nn::Embedding(vocab, 16));
  }
  lmforge::Features forward(const lmforge::BackboneInput& input) override {
    return {embedding_->forward(input.tokens), input.mask, {}};
  }
  std::int64_t output_size() const override { return 16; }
  torch::Tensor input_embedding() override { return embedding_->weight; }
  std::vector<std::vector<torch::Tensor>> layer_groups() override { return {parameters()}; }

 private:
  torch::nn::Embedding embedding_{nullptr};
};

class Projection : public lmforge::Head {
 public:
  explicit Projection(std::int64_t vocab) {
    linear_ = register_module("linear", torch::nn::Linear(16, vocab));
  }
  torch::Tensor forward(const lmforge::Features& features) override {
    return linear_->forward(features.sequence);
  }

 private:
  torch::nn::Linear linear_{nullptr};
};

std::string write_corpus(const std::string& name, int sentences) {
  auto path = std::filesystem::temp_directory_path() /
              ("@name@_test_" + std::to_string(::getpid()) + "_" + name + ".txt");
  std::ofstream out(path);
  std::mt19937 rng(1);
  const char* subjects[] = {"the cat", "a dog", "the bird"};
  const char* verbs[] = {"sees", "likes", "chases"};
  for (int i = 0; i < sentences; ++i) {
    out << subjects[rng() % 3] << " " << verbs[rng() % 3] << " " << subjects[rng() % 3] << "\n";
  }
  return path.string();
}

}  // namespace

TEST_CASE("@name@: a batch is <bos> + sentence in, sentence + <eos> out") {
  @name@_plugin::Sentences sentences{{5, 6, 7}, {8}};
  auto batch = @name@_plugin::make_batch(sentences, {0, 1});
  using Ids = std::vector<std::int64_t>;
  CHECK(batch.input[0].contiguous().data_ptr<std::int64_t>()[0] == Vocabulary::kBos);
  auto row = [](const torch::Tensor& t) {
    auto c = t.contiguous();
    return Ids(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel());
  };
  CHECK(row(batch.input[0]) == Ids{Vocabulary::kBos, 5, 6, 7});
  CHECK(row(batch.target[0]) == Ids{5, 6, 7, Vocabulary::kEos});
  CHECK(row(batch.input[1]) == Ids{Vocabulary::kBos, 8, Vocabulary::kPad, Vocabulary::kPad});
  CHECK(row(batch.target[1]) == Ids{8, Vocabulary::kEos, -100, -100});
  CHECK(batch.tokens == 6);
}

TEST_CASE("@name@: trains a small model and evaluates it") {
  torch::manual_seed(0);
  Task::Options options;
  options.train = write_corpus("train", 200);
  options.valid = write_corpus("valid", 40);
  lmforge::TaskContext context;
  context.batch_size = 16;
  Task task(options, context);
  Words tokenizer;
  task.prepare(tokenizer, true);
  CHECK(task.num_outputs() == tokenizer.vocabulary().size());
  CHECK(task.steps_per_epoch() == 13);
  CHECK(task.eval_splits() == std::vector<std::string>{"valid"});

  auto backbone = std::make_shared<Bigram>(task.num_outputs());
  auto head = std::make_shared<Projection>(task.num_outputs());
  lmforge::Model model(backbone, head);
  const double before = task.evaluate(model, "valid").at("loss");
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(0.05));
  for (int epoch = 0; epoch < 3; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      optimizer.zero_grad();
      auto result = task.train_step(model, step);
      REQUIRE(std::isfinite(result.loss.item<double>()));
      result.loss.backward();
      optimizer.step();
    }
  }
  auto metrics = task.evaluate(model, "valid");
  CHECK(metrics.at("loss") < before);
  CHECK(metrics.at("accuracy") > 0.3);
  CHECK(std::abs(metrics.at("ppl") - std::exp(metrics.at("loss"))) < 1e-9);
  std::remove(options.train.c_str());
  std::remove(options.valid.c_str());
}

TEST_CASE("@name@: a missing file is a DataError naming it") {
  Task::Options options;
  options.train = "/nonexistent/@name@.txt";
  Task task(options, lmforge::TaskContext{});
  Words tokenizer;
  CHECK_THROWS_AS(task.prepare(tokenizer, true), lmforge::DataError);
}
)tmpl";

constexpr const char* kTaskRecipe =
    R"tmpl(# @name@: train the bundled lstm backbone and lm head with the @name@ task on sentences the
# recipe generates itself.
#
#   lmforge run recipe.yaml --plugin-path build        (after building the plugin into build/)
name: @name@
seed: 7
generate_data: {type: toy_grammar, sentences: 3000, seed: 3}
# plugins: ["${recipe_dir}/build/@name@.so"]   # or name the plugin here, not with --plugin-path

stages:
  - name: train
    task:
      type: @name@
      train: ${run}/data/train.txt
      valid: ${run}/data/valid.txt
      test: ${run}/data/test.txt
      max_length: 40
    tokenizer: {type: word, lowercase: true}
    backbone: {type: lstm, embedding_dim: 32, hidden_size: 64, layers: 1, dropout: 0.1}
    head: {type: lm, tie_weights: true}
    train:
      epochs: 2
      batch_size: 16
      optimizer: {type: adamw, lr: 1e-2}
      clip_grad_norm: 0.5
      log_every: 20
)tmpl";

// ---------------------------------------------------------------------------------------------

struct Kind {
  const char* name;
  const char* summary;  // what the generated component is, for the closing message
  const char* header;
  const char* source;
  const char* test;
  const char* recipe;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> all{
      {"backbone", "a GRU backbone (embedding + stacked GRU)", kBackboneHeader, kBackboneSource,
       kBackboneTest, kBackboneRecipe},
      {"head", "a classifier head (masked mean pooling + MLP)", kHeadHeader, kHeadSource, kHeadTest,
       kHeadRecipe},
      {"task", "a sentence language-modelling task (padded batches)", kTaskHeader, kTaskSource,
       kTaskTest, kTaskRecipe},
  };
  return all;
}

std::string substitute(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    const std::string mark = "@" + key + "@";
    for (std::size_t at = text.find(mark); at != std::string::npos;
         at = text.find(mark, at + value.size())) {
      text.replace(at, mark.size(), value);
    }
  }
  return text;
}

// my_gru -> MyGru
std::string class_name(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

// The name is a recipe `type:`, a C++ namespace prefix, a file name and a CMake target, so it must
// suit all four.
void check_name(const std::string& name) {
  auto fail = [&](const std::string& why) {
    throw ConfigError("lmforge new plugin", "plugin name '" + name + "' " + why);
  };
  if (name.empty()) fail("is empty");
  if (name.size() > 64) fail("is longer than 64 characters");
  if (!(name[0] >= 'a' && name[0] <= 'z')) {
    fail("must start with a lowercase letter (e.g. my_gru)");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      fail("may hold only lowercase letters, digits and '_' (e.g. my_gru)");
    }
  }
  if (name.find("__") != std::string::npos) fail("must not contain '__' (reserved in C++)");
  // lmforge_*.so are the bundled plugins' files, and `lmforge` the SDK's CMake package.
  if (name.rfind("lmforge", 0) == 0) fail("must not start with 'lmforge' (the SDK's own names)");
  // Target names CMake reserves for itself.
  for (const char* reserved : {"all", "clean", "help", "install", "test", "package", "edit_cache",
                               "rebuild_cache", "list_install_components"}) {
    if (name == reserved) fail("is a target name CMake reserves; choose another");
  }
}

// A plugin registering a name that is already taken is refused at load time; say so now.
void check_not_taken(const std::string& kind, const std::string& name) {
  try {
    PluginLoader::instance().load_directory(bundled_plugin_directory());
  } catch (const Error&) {
    // A broken bundled plugin is reported by the commands that need it, not here.
  }
  Registry& registry = Registry::instance();
  if (registry.contains(kind, name)) {
    const std::string source = registry.find(kind, name, "").source;
    throw ConfigError("lmforge new plugin", "a " + kind + " named '" + name + "' already exists (" +
                                                source +
                                                "); a plugin registering it again would be "
                                                "refused, so choose another name");
  }
}

std::string shell_quote(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text) {
    plain &= std::isalnum(static_cast<unsigned char>(c)) ||
             std::string("/._-+=:,@").find(c) != std::string::npos;
  }
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The prefix this CLI was installed to, when it carries the CMake package; empty otherwise (e.g.
// the CLI of a build tree).
std::string installed_prefix() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  fs::path prefix = exe.parent_path().parent_path();
  for (const char* libdir : {"lib", "lib64"}) {
    if (fs::exists(prefix / libdir / "cmake" / "lmforge" / "lmforgeConfig.cmake", ec)) {
      return prefix.string();
    }
  }
  return "";
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw Error(path.string(), "cannot write file");
}

}  // namespace

int new_command(const Args& args) {
  po::options_description options("lmforge new plugin NAME --kind KIND [options]");
  options.add_options()("help,h", "show this help")("kind", po::value<std::string>(),
                                                    "backbone, head or task")(
      "dir", po::value<std::string>(), "folder to create (default: ./NAME); must not exist");
  Parsed parsed = parse_command("new", args, options);
  const std::string usage = "lmforge new plugin NAME --kind backbone|head|task [--dir DIR]";
  if (parsed.values.count("help")) {
    print_usage(usage, options);
    return 0;
  }
  if (parsed.positional.empty())
    throw ConfigError("lmforge new", "nothing to create; usage: " + usage);
  if (parsed.positional[0] != "plugin") {
    throw ConfigError("lmforge new", "cannot create '" + parsed.positional[0] + "'" +
                                         did_you_mean(parsed.positional[0], {"plugin"}) +
                                         "; usage: " + usage);
  }
  if (parsed.positional.size() != 2) {
    throw ConfigError("lmforge new plugin", "expected one NAME; usage: " + usage);
  }
  const std::string name = parsed.positional[1];
  check_name(name);

  std::vector<std::string> kind_names;
  for (const auto& k : kinds()) kind_names.push_back(k.name);
  if (!parsed.values.count("kind")) {
    throw ConfigError("lmforge new plugin", "--kind is required: one of " + join_names(kind_names));
  }
  const std::string kind_name = parsed.values["kind"].as<std::string>();
  const Kind* kind = nullptr;
  for (const auto& k : kinds()) {
    if (kind_name == k.name) kind = &k;
  }
  if (kind == nullptr) {
    throw ConfigError("--kind", "unknown kind '" + kind_name + "'" +
                                    did_you_mean(kind_name, kind_names) +
                                    "; kinds: " + join_names(kind_names));
  }
  check_not_taken(kind->name, name);

  const std::string dir_arg =
      parsed.values.count("dir") ? parsed.values["dir"].as<std::string>() : name;
  if (dir_arg.empty()) throw ConfigError("--dir", "is empty; give the folder to create");
  fs::path dir = fs::path(dir_arg).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "my_gru/" names the folder my_gru
  std::error_code ec;
  if (fs::exists(dir, ec) || fs::is_symlink(dir, ec)) {
    throw ConfigError(dir_arg,
                      "already exists; lmforge new never overwrites: remove it or choose "
                      "another folder with --dir");
  }

  const std::map<std::string, std::string> values{
      {"name", name}, {"Class", class_name(name)}, {"test_prelude", kTestPrelude}};
  const std::vector<std::pair<std::string, std::string>> files{
      {"CMakeLists.txt", kCMakeLists}, {name + ".h", kind->header},
      {name + ".cpp", kind->source},   {name + "_test.cpp", kind->test},
      {"recipe.yaml", kind->recipe},   {".gitignore", kGitignore},
  };

  // Written next to the target and renamed into place, so a failure never leaves half a project.
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw Error(parent.string(), "cannot create folder: " + ec.message());
  const fs::path staging =
      parent / ("." + dir.filename().string() + ".new-" + std::to_string(::getpid()));
  try {
    fs::remove_all(staging);
    fs::create_directory(staging);
    for (const auto& [file, text] : files) write_file(staging / file, substitute(text, values));
    fs::rename(staging, dir);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging, ec);
    throw Error(dir_arg, std::string("cannot write the plugin project: ") + e.code().message());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }

  const std::string d = shell_quote(dir.string());
  const std::string prefix = installed_prefix();
  std::cout << "created " << dir.string() << "/: " << kind->summary << " registered as '" << name
            << "'\n"
            << "  " << name << ".h, " << name << ".cpp   the " << kind->name
            << ", its options and its registration\n"
            << "  " << name << "_test.cpp        Catch2 test (ctest)\n"
            << "  CMakeLists.txt         find_package(lmforge) + lmforge_add_plugin(" << name
            << " ...)\n"
            << "  recipe.yaml            trains with it on data the recipe generates\n"
            << "next:\n"
            << "  cmake -S " << d << " -B " << d << "/build -DCMAKE_PREFIX_PATH="
            << (prefix.empty() ? "<lmforge install prefix>" : shell_quote(prefix)) << "\n"
            << "  cmake --build " << d << "/build --parallel\n"
            << "  ctest --test-dir " << d << "/build\n"
            << "  lmforge run " << d << "/recipe.yaml --plugin-path " << d << "/build\n";
  if (prefix.empty()) {
    std::cout << "(this lmforge is not an installed SDK; install one with "
                 "`cmake --install build --prefix PREFIX`)\n";
  }
  return 0;
}

}  // namespace lmforge::cli
