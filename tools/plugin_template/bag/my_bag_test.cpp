// Tests of the my_bag backbone; `ctest` in the build folder runs them.
#include "my_bag.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <vector>

#include "lmforge/error.h"
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 v3: main() comes from Catch2::Catch2WithMain
#else
#define CATCH_CONFIG_MAIN  // Catch2 v2: this file provides main()
#include <catch2/catch.hpp>
#endif

namespace {

using Backbone = my_bag_plugin::MyBag;
constexpr std::int64_t kVocab = 20;

Backbone::Options small_options() {
  Backbone::Options options;
  options.embedding_dim = 8;
  options.hidden_size = 6;
  options.dropout = 0.0;
  return options;
}

}  // namespace

TEST_CASE("my_bag: one vector per text, [B,1,H]") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), {kVocab, 0});
  auto features = backbone.forward({torch::randint(1, kVocab, {3, 5}), {}, {}});
  CHECK(features.sequence.sizes().vec() == std::vector<std::int64_t>{3, 1, 6});
  CHECK_FALSE(features.mask.defined());
  CHECK(backbone.output_size() == 6);
  CHECK_FALSE(backbone.causal());
}

TEST_CASE("my_bag: padding never changes a text's vector") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), {kVocab, 0});
  auto alone = backbone.forward({torch::tensor({{4, 5, 6}}), {}, {}}).sequence;
  auto padded = backbone
                    .forward({torch::tensor({{4, 5, 6, 0, 0}}),
                              torch::tensor({{true, true, true, false, false}}),
                              {}})
                    .sequence;
  CHECK(torch::allclose(alone, padded, 1e-6, 1e-6));
}

TEST_CASE("my_bag: every parameter gets a gradient and is in one layer group") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), {kVocab, 0});
  backbone.forward({torch::randint(1, kVocab, {2, 4}), {}, {}}).sequence.sum().backward();
  std::size_t grouped = 0;
  for (const auto& group : backbone.layer_groups()) grouped += group.size();
  CHECK(grouped == backbone.parameters().size());
  for (const auto& p : backbone.parameters()) CHECK(p.grad().defined());
}

TEST_CASE("my_bag: with a linear layer on top it learns which of two words a text holds") {
  torch::manual_seed(1);
  Backbone backbone(small_options(), {kVocab, 0});
  torch::nn::Linear out(6, 2);
  std::vector<torch::Tensor> params = backbone.parameters();
  for (const auto& p : out->parameters()) params.push_back(p);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(0.05));
  // Label 1 when the text holds word 7, else 0; the other words are noise.
  auto tokens = torch::randint(8, kVocab, {32, 6});
  auto labels = torch::randint(0, 2, {32});
  tokens.select(1, 2).masked_fill_(labels.to(torch::kBool), 7);
  double loss_value = 0;
  for (int step = 0; step < 150; ++step) {
    optimizer.zero_grad();
    auto logits = out->forward(backbone.forward({tokens, {}, {}}).sequence.squeeze(1));
    auto loss = torch::nn::functional::cross_entropy(logits, labels);
    loss.backward();
    optimizer.step();
    loss_value = loss.item<double>();
  }
  CHECK(loss_value < 0.05);
}

TEST_CASE("my_bag: options out of range are refused") {
  auto options = small_options();
  options.hidden_size = 0;
  CHECK_THROWS_AS(Backbone(options, {kVocab, 0}), lmforge::ConfigError);
  CHECK_THROWS_AS(Backbone(small_options(), {0, 0}), lmforge::ConfigError);
}
