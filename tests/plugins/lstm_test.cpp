// The lstm backbone: shapes, state layout and carrying, layer groups, gradients, checkpoint names,
// and a tiny convergence test with a tied lm head.
#include "models/lstm/lstm.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "heads/lm/lm_head.h"
#include "lmforge/error.h"

using lmforge::BackboneContext;
using lmforge::BackboneInput;
using lmforge::Features;
using lmforge::LstmBackbone;
using lmforge::LstmOptions;

namespace {

constexpr std::int64_t kVocab = 20;

LstmOptions small_options() {
  LstmOptions options;
  options.embedding_dim = 8;
  options.hidden_size = 12;
  options.layers = 3;
  options.dropout = 0.0;
  options.tie_output = true;
  return options;
}

BackboneContext small_context() {
  BackboneContext context;
  context.vocab_size = kVocab;
  context.padding_id = 0;
  return context;
}

torch::Tensor random_tokens(std::int64_t batch, std::int64_t length) {
  return torch::randint(1, kVocab, {batch, length}, torch::kLong);
}

}  // namespace

TEST_CASE("lstm backbone maps [B,T] ids to [B,T,H] features and per-layer state", "[lstm]") {
  torch::manual_seed(0);
  SECTION("tie_output makes the last layer embedding_dim wide") {
    LstmBackbone lstm(small_options(), small_context());
    CHECK(lstm.output_size() == 8);
    CHECK(lstm.causal());
    auto mask = torch::ones({3, 5}, torch::kBool);
    Features f = lstm.forward(BackboneInput{random_tokens(3, 5), mask, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({3, 5, 8}));
    CHECK(f.mask.is_same(mask));
    REQUIRE(f.state.size() == 6);
    CHECK(f.state[0].sizes() == torch::IntArrayRef({1, 3, 12}));  // h, layer 0
    CHECK(f.state[1].sizes() == torch::IntArrayRef({1, 3, 12}));  // c, layer 0
    CHECK(f.state[4].sizes() == torch::IntArrayRef({1, 3, 8}));   // h, last layer
    CHECK(f.state[5].sizes() == torch::IntArrayRef({1, 3, 8}));   // c, last layer
    CHECK(lstm.input_embedding().sizes() == torch::IntArrayRef({kVocab, 8}));
  }
  SECTION("without tie_output every layer is hidden_size wide") {
    auto options = small_options();
    options.tie_output = false;
    LstmBackbone lstm(options, small_context());
    CHECK(lstm.output_size() == 12);
    Features f = lstm.forward(BackboneInput{random_tokens(2, 4), {}, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({2, 4, 12}));
    CHECK_FALSE(f.mask.defined());
  }
}

TEST_CASE("lstm backbone names its modules for stable checkpoint keys", "[lstm]") {
  LstmBackbone lstm(small_options(), small_context());
  auto params = lstm.named_parameters();
  for (const char* key : {"embedding.weight", "lstm0.weight_ih_l0", "lstm0.bias_hh_l0",
                          "lstm1.weight_hh_l0", "lstm2.weight_ih_l0"}) {
    CHECK(params.contains(key));
  }
  CHECK_FALSE(params.contains("lstm3.weight_ih_l0"));
}

TEST_CASE("lstm backbone zeroes the padding row of the embedding", "[lstm]") {
  LstmBackbone lstm(small_options(), small_context());
  CHECK(lstm.input_embedding()[0].abs().sum().item<double>() == 0.0);
  CHECK(lstm.input_embedding()[1].abs().sum().item<double>() > 0.0);
}

TEST_CASE("lstm backbone gradients reach every parameter", "[lstm]") {
  torch::manual_seed(1);
  auto options = small_options();
  options.dropout = 0.3;
  LstmBackbone lstm(options, small_context());
  lstm.train();
  Features f = lstm.forward(BackboneInput{random_tokens(4, 6), {}, {}});
  f.sequence.pow(2).sum().backward();
  for (const auto& p : lstm.named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0.0);
  }
}

TEST_CASE("lstm backbone carries state across calls", "[lstm]") {
  torch::manual_seed(2);
  LstmBackbone lstm(small_options(), small_context());
  lstm.eval();
  torch::NoGradGuard no_grad;
  auto tokens = random_tokens(3, 10);
  Features whole = lstm.forward(BackboneInput{tokens, {}, {}});
  Features first = lstm.forward(BackboneInput{tokens.narrow(1, 0, 5), {}, {}});
  Features second = lstm.forward(BackboneInput{tokens.narrow(1, 5, 5), {}, first.state});
  auto joined = torch::cat({first.sequence, second.sequence}, 1);
  CHECK(torch::allclose(joined, whole.sequence, /*rtol=*/0, /*atol=*/1e-5));
  REQUIRE(second.state.size() == whole.state.size());
  for (std::size_t i = 0; i < whole.state.size(); ++i) {
    CHECK(torch::allclose(second.state[i], whole.state[i], 0, 1e-5));
  }
  // A fresh start must not be the same as a continued one, or the test above proves nothing.
  Features fresh = lstm.forward(BackboneInput{tokens.narrow(1, 5, 5), {}, {}});
  CHECK_FALSE(torch::allclose(fresh.sequence, second.sequence, 0, 1e-5));
}

TEST_CASE("lstm backbone rejects a state of the wrong size", "[lstm]") {
  LstmBackbone lstm(small_options(), small_context());
  lmforge::State state{torch::zeros({1, 2, 12}), torch::zeros({1, 2, 12})};
  CHECK_THROWS(lstm.forward(BackboneInput{random_tokens(2, 3), {}, state}));
}

TEST_CASE("lstm layer groups hold every parameter exactly once", "[lstm]") {
  LstmBackbone lstm(small_options(), small_context());
  auto groups = lstm.layer_groups();
  REQUIRE(groups.size() == 4);  // embedding + one per layer
  REQUIRE(groups[0].size() == 1);
  CHECK(groups[0][0].is_same(lstm.input_embedding()));
  std::set<const void*> seen;
  std::size_t count = 0;
  for (const auto& group : groups) {
    CHECK_FALSE(group.empty());
    for (const auto& t : group) {
      seen.insert(t.unsafeGetTensorImpl());
      ++count;
    }
  }
  CHECK(count == seen.size());
  auto params = lstm.parameters();
  CHECK(params.size() == count);
  for (const auto& p : params) CHECK(seen.count(p.unsafeGetTensorImpl()) == 1);
}

TEST_CASE("lstm backbone refuses an empty vocabulary", "[lstm]") {
  BackboneContext context;
  context.vocab_size = 0;
  CHECK_THROWS_AS(LstmBackbone(small_options(), context), lmforge::ConfigError);
}

TEST_CASE("a tiny lstm language model overfits one batch", "[lstm][convergence]") {
  torch::manual_seed(3);
  auto options = small_options();
  options.embedding_dim = 16;
  options.hidden_size = 32;
  options.layers = 2;
  auto backbone = std::make_shared<LstmBackbone>(options, small_context());
  lmforge::HeadContext head_context;
  head_context.input_size = backbone->output_size();
  head_context.num_outputs = kVocab;
  head_context.backbone = backbone.get();
  auto head = std::make_shared<lmforge::LmHead>(lmforge::LmHeadOptions{}, head_context);

  auto stream = random_tokens(4, 13);
  auto input = stream.narrow(1, 0, 12);
  auto target = stream.narrow(1, 1, 12);
  std::vector<torch::Tensor> params = backbone->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-2));

  double loss_value = 0;
  for (int step = 0; step < 400; ++step) {
    adam.zero_grad();
    auto logits = head->forward(backbone->forward(BackboneInput{input, {}, {}}));
    auto loss = head->loss(logits, target);
    loss.backward();
    adam.step();
    loss_value = loss.item<double>();
    if (loss_value < 0.1) break;
  }
  CHECK(loss_value < 0.1);
}
