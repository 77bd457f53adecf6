// Tests of the my_backbone backbone; `ctest` in the build folder runs them.
#include "my_backbone.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <set>
#include <vector>

#include "lmforge/error.h"
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 v3: main() comes from Catch2::Catch2WithMain
#else
#define CATCH_CONFIG_MAIN  // Catch2 v2: this file provides main()
#include <catch2/catch.hpp>
#endif
namespace {

using Backbone = my_backbone_plugin::MyBackbone;
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

TEST_CASE("my_backbone: features are [B,T,hidden_size], one state tensor per layer") {
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

TEST_CASE("my_backbone: carrying the state across windows equals one pass") {
  torch::manual_seed(0);
  Backbone backbone(small_options(), lmforge::BackboneContext{kVocab, 0});
  auto tokens = torch::randint(1, kVocab, {2, 8}, torch::kLong);
  auto whole = backbone.forward({tokens, {}, {}}).sequence;
  auto first = backbone.forward({tokens.narrow(1, 0, 5), {}, {}});
  auto second = backbone.forward({tokens.narrow(1, 5, 3), {}, first.state});
  CHECK(torch::allclose(torch::cat({first.sequence, second.sequence}, 1), whole, 1e-5, 1e-6));
}

TEST_CASE("my_backbone: each parameter is in one layer group and gets a gradient") {
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

TEST_CASE("my_backbone: an empty vocabulary is a ConfigError, not a crash") {
  CHECK_THROWS_AS(Backbone(small_options(), lmforge::BackboneContext{0, 0}), lmforge::ConfigError);
}
