// The rnn and gru backbones (one recurrent stack, two torch modules): shapes, state layout and
// carrying, bidirectional packing of padded batches, layer groups, gradients, checkpoint names,
// and a tiny convergence test with a tied lm head.
#include "models/rnn/rnn.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "heads/lm/lm_head.h"
#include "lmforge/error.h"
#include "models/gru/gru.h"

using lmforge::BackboneContext;
using lmforge::BackboneInput;
using lmforge::Features;
using lmforge::GruBackbone;
using lmforge::RnnBackbone;

namespace {

constexpr std::int64_t kVocab = 20;

template <class Backbone>
typename Backbone::Options small_options() {
  typename Backbone::Options options;
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

/// A tensor's value as a double; a plain function, so template test cases need no `.template`.
double value(const torch::Tensor& t) { return t.item<double>(); }

template <class Backbone>
std::string kind() {
  return std::is_same_v<Backbone, RnnBackbone> ? "rnn" : "gru";
}

}  // namespace

TEMPLATE_TEST_CASE("recurrent backbones map [B,T] ids to [B,T,H] features and per-layer state",
                   "[rnn][gru]", RnnBackbone, GruBackbone) {
  torch::manual_seed(0);
  SECTION("tie_output makes the last layer embedding_dim wide") {
    TestType net(small_options<TestType>(), small_context());
    CHECK(net.output_size() == 8);
    CHECK(net.causal());
    CHECK(net.carries_state());
    auto mask = torch::ones({3, 5}, torch::kBool);
    Features f = net.forward(BackboneInput{random_tokens(3, 5), mask, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({3, 5, 8}));
    CHECK(f.mask.is_same(mask));
    REQUIRE(f.state.size() == 3);
    CHECK(f.state[0].sizes() == torch::IntArrayRef({1, 3, 12}));
    CHECK(f.state[1].sizes() == torch::IntArrayRef({1, 3, 12}));
    CHECK(f.state[2].sizes() == torch::IntArrayRef({1, 3, 8}));
    CHECK(net.input_embedding().sizes() == torch::IntArrayRef({kVocab, 8}));
  }
  SECTION("without tie_output every layer is hidden_size wide") {
    auto options = small_options<TestType>();
    options.tie_output = false;
    TestType net(options, small_context());
    CHECK(net.output_size() == 12);
    Features f = net.forward(BackboneInput{random_tokens(2, 4), {}, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({2, 4, 12}));
  }
  SECTION("bidirectional layers output both directions and are not causal") {
    auto options = small_options<TestType>();
    options.bidirectional = true;
    options.tie_output = false;
    TestType net(options, small_context());
    CHECK(net.output_size() == 24);
    CHECK_FALSE(net.causal());
    CHECK_FALSE(net.carries_state());
    Features f = net.forward(BackboneInput{random_tokens(2, 4), {}, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({2, 4, 24}));
    REQUIRE(f.state.size() == 3);
    CHECK(f.state[0].sizes() == torch::IntArrayRef({2, 2, 12}));
  }
  SECTION("bidirectional with tie_output splits embedding_dim between the directions") {
    auto options = small_options<TestType>();
    options.bidirectional = true;
    TestType net(options, small_context());
    CHECK(net.output_size() == 8);
    Features f = net.forward(BackboneInput{random_tokens(2, 4), {}, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({2, 4, 8}));
    CHECK(f.state[2].sizes() == torch::IntArrayRef({2, 2, 4}));
  }
}

TEMPLATE_TEST_CASE("recurrent backbones name their modules for stable checkpoint keys",
                   "[rnn][gru]", RnnBackbone, GruBackbone) {
  TestType net(small_options<TestType>(), small_context());
  auto params = net.named_parameters();
  const std::string k = kind<TestType>();
  for (const std::string& key : {std::string("embedding.weight"), k + "0.weight_ih_l0",
                                 k + "0.bias_hh_l0", k + "1.weight_hh_l0", k + "2.weight_ih_l0"}) {
    INFO(key);
    CHECK(params.contains(key));
  }
  CHECK_FALSE(params.contains(k + "3.weight_ih_l0"));
  CHECK(value(net.input_embedding()[0].abs().sum()) == 0.0);  // padding row
}

TEMPLATE_TEST_CASE("recurrent backbone gradients reach every parameter", "[rnn][gru]", RnnBackbone,
                   GruBackbone) {
  torch::manual_seed(1);
  for (bool bidirectional : {false, true}) {
    auto options = small_options<TestType>();
    options.dropout = 0.3;
    options.bidirectional = bidirectional;
    TestType net(options, small_context());
    net.train();
    Features f = net.forward(BackboneInput{random_tokens(4, 6), {}, {}});
    f.sequence.pow(2).sum().backward();
    for (const auto& p : net.named_parameters()) {
      INFO(p.key() << (bidirectional ? " (bidirectional)" : ""));
      REQUIRE(p.value().grad().defined());
      CHECK(value(p.value().grad().abs().sum()) > 0.0);
    }
  }
}

TEMPLATE_TEST_CASE("recurrent backbones carry state across calls", "[rnn][gru]", RnnBackbone,
                   GruBackbone) {
  torch::manual_seed(2);
  TestType net(small_options<TestType>(), small_context());
  net.eval();
  torch::NoGradGuard no_grad;
  auto tokens = random_tokens(3, 10);
  Features whole = net.forward(BackboneInput{tokens, {}, {}});
  Features first = net.forward(BackboneInput{tokens.narrow(1, 0, 5), {}, {}});
  Features second = net.forward(BackboneInput{tokens.narrow(1, 5, 5), {}, first.state});
  auto joined = torch::cat({first.sequence, second.sequence}, 1);
  CHECK(torch::allclose(joined, whole.sequence, /*rtol=*/0, /*atol=*/1e-5));
  REQUIRE(second.state.size() == whole.state.size());
  for (std::size_t i = 0; i < whole.state.size(); ++i) {
    CHECK(torch::allclose(second.state[i], whole.state[i], 0, 1e-5));
  }
  // A fresh start must differ from a continued one, or the checks above prove nothing.
  Features fresh = net.forward(BackboneInput{tokens.narrow(1, 5, 5), {}, {}});
  CHECK_FALSE(torch::allclose(fresh.sequence, second.sequence, 0, 1e-5));
}

TEMPLATE_TEST_CASE("bidirectional recurrent backbones ignore right padding", "[rnn][gru]",
                   RnnBackbone, GruBackbone) {
  torch::manual_seed(4);
  auto options = small_options<TestType>();
  options.bidirectional = true;
  TestType net(options, small_context());
  net.eval();
  torch::NoGradGuard no_grad;
  // Row 0 has 4 real tokens, row 1 has 7; both padded to 7.
  auto tokens = random_tokens(2, 7);
  auto mask = torch::ones({2, 7}, torch::kBool);
  mask[0].narrow(0, 4, 3).fill_(false);
  tokens[0].narrow(0, 4, 3).fill_(0);
  Features padded = net.forward(BackboneInput{tokens, mask, {}});
  Features alone = net.forward(BackboneInput{tokens.narrow(0, 0, 1).narrow(1, 0, 4), {}, {}});
  CHECK(torch::allclose(padded.sequence[0].narrow(0, 0, 4), alone.sequence[0], 0, 1e-5));
  CHECK(value(padded.sequence[0].narrow(0, 4, 3).abs().sum()) == 0.0);
  Features full = net.forward(BackboneInput{tokens.narrow(0, 1, 1), {}, {}});
  CHECK(torch::allclose(padded.sequence[1], full.sequence[0], 0, 1e-5));
  for (std::size_t i = 0; i < padded.state.size(); ++i) {
    CHECK(torch::allclose(padded.state[i].select(1, 0), alone.state[i].select(1, 0), 0, 1e-5));
  }
}

TEMPLATE_TEST_CASE("recurrent backbones reject a state of the wrong size", "[rnn][gru]",
                   RnnBackbone, GruBackbone) {
  TestType net(small_options<TestType>(), small_context());
  lmforge::State state{torch::zeros({1, 2, 12})};
  CHECK_THROWS(net.forward(BackboneInput{random_tokens(2, 3), {}, state}));
}

TEMPLATE_TEST_CASE("recurrent layer groups hold every parameter exactly once", "[rnn][gru]",
                   RnnBackbone, GruBackbone) {
  TestType net(small_options<TestType>(), small_context());
  auto groups = net.layer_groups();
  REQUIRE(groups.size() == 4);  // embedding + one per layer
  REQUIRE(groups[0].size() == 1);
  CHECK(groups[0][0].is_same(net.input_embedding()));
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
  auto params = net.parameters();
  CHECK(params.size() == count);
  for (const auto& p : params) CHECK(seen.count(p.unsafeGetTensorImpl()) == 1);
}

TEMPLATE_TEST_CASE("recurrent backbones refuse bad options", "[rnn][gru]", RnnBackbone,
                   GruBackbone) {
  BackboneContext empty;
  empty.vocab_size = 0;
  CHECK_THROWS_AS(TestType(small_options<TestType>(), empty), lmforge::ConfigError);
  auto odd = small_options<TestType>();
  odd.embedding_dim = 7;
  odd.bidirectional = true;
  CHECK_THROWS_AS(TestType(odd, small_context()), lmforge::ConfigError);
}

TEST_CASE("the rnn backbone takes a ReLU recurrence and refuses an unknown one", "[rnn]") {
  torch::manual_seed(5);
  auto options = small_options<RnnBackbone>();
  options.nonlinearity = "relu";
  RnnBackbone relu_net(options, small_context());
  relu_net.eval();
  Features f = relu_net.forward(BackboneInput{random_tokens(2, 4), {}, {}});
  // ReLU states are never negative.
  CHECK(value(f.state[0].min()) >= 0.0);
  options.nonlinearity = "sigmoid";
  CHECK_THROWS_AS(RnnBackbone(options, small_context()), lmforge::ConfigError);
}

TEMPLATE_TEST_CASE("a tiny recurrent language model overfits one batch", "[rnn][gru][convergence]",
                   RnnBackbone, GruBackbone) {
  torch::manual_seed(3);
  auto options = small_options<TestType>();
  options.embedding_dim = 16;
  options.hidden_size = 32;
  options.layers = 2;
  auto backbone = std::make_shared<TestType>(options, small_context());
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
  for (int step = 0; step < 500; ++step) {
    adam.zero_grad();
    auto logits = head->forward(backbone->forward(BackboneInput{input, {}, {}}));
    auto loss = head->loss(logits, target);
    loss.backward();
    adam.step();
    loss_value = value(loss);
    if (loss_value < 0.1) break;
  }
  CHECK(loss_value < 0.1);
}
