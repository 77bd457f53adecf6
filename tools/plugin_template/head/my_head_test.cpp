// Tests of the my_head head; `ctest` in the build folder runs them.
#include "my_head.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <vector>

#include "lmforge/error.h"
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>  // Catch2 v3: main() comes from Catch2::Catch2WithMain
#else
#define CATCH_CONFIG_MAIN  // Catch2 v2: this file provides main()
#include <catch2/catch.hpp>
#endif
namespace {

using Head = my_head_plugin::MyHead;

Head::Options small_options() {
  Head::Options options;
  options.hidden_size = 6;
  options.dropout = 0.0;
  return options;
}

}  // namespace

TEST_CASE("my_head: one logit per label for each sequence") {
  torch::manual_seed(0);
  Head head(small_options(), lmforge::HeadContext{8, 3, nullptr});
  auto logits = head.forward({torch::randn({4, 5, 8}), {}, {}});
  CHECK(logits.sizes().vec() == std::vector<std::int64_t>{4, 3});
}

TEST_CASE("my_head: padded positions do not change the logits") {
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

TEST_CASE("my_head: the loss trains every parameter") {
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

TEST_CASE("my_head: no labels is a ConfigError, not a crash") {
  CHECK_THROWS_AS(Head(small_options(), lmforge::HeadContext{8, 0, nullptr}), lmforge::ConfigError);
}
