// The transformer backbone: shapes and cache layout, causality, the key/value cache against the
// full forward (and its sliding window), padding in bidirectional mode, layer groups, gradients,
// checkpoint names, and a tiny convergence test with a tied lm head.
#include "models/transformer/transformer.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "heads/lm/lm_head.h"
#include "lmforge/error.h"

using lmforge::BackboneContext;
using lmforge::BackboneInput;
using lmforge::Features;
using lmforge::State;
using lmforge::TransformerBackbone;
using lmforge::TransformerOptions;

namespace {

constexpr std::int64_t kVocab = 23;

TransformerOptions small_options() {
  TransformerOptions options;
  options.layers = 2;
  options.heads = 2;
  options.width = 16;
  options.ff_mult = 4;
  options.dropout = 0.0;
  options.max_positions = 12;
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

/// The variants every behavioural test runs over.
std::vector<TransformerOptions> variants() {
  std::vector<TransformerOptions> all;
  for (const char* positions : {"learned", "sinusoidal"}) {
    for (const char* norm : {"pre", "post"}) {
      auto options = small_options();
      options.positions = positions;
      options.norm = norm;
      all.push_back(options);
    }
  }
  auto no_bias = small_options();
  no_bias.bias = false;
  all.push_back(no_bias);
  return all;
}

std::string describe(const TransformerOptions& o) {
  return o.mode + "/" + o.positions + "/" + o.norm + (o.bias ? "" : "/no-bias");
}

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("transformer maps [B,T] ids to [B,T,width] features", "[transformer]") {
  torch::manual_seed(0);
  TransformerBackbone net(small_options(), small_context());
  CHECK(net.output_size() == 16);
  CHECK(net.causal());
  CHECK_FALSE(net.carries_state());
  CHECK(net.input_embedding().sizes() == torch::IntArrayRef({kVocab, 16}));
  auto mask = torch::ones({3, 5}, torch::kBool);

  SECTION("training returns no cache") {
    net.train();
    Features f = net.forward(BackboneInput{random_tokens(3, 5), mask, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({3, 5, 16}));
    CHECK(f.mask.is_same(mask));
    CHECK(f.state.empty());
  }
  SECTION("evaluation returns a fresh key/value cache") {
    net.eval();
    auto tokens = random_tokens(3, 5);
    Features f = net.forward(BackboneInput{tokens, {}, {}});
    REQUIRE(f.state.size() == 6);  // keys and values per block, the window's ids, the offset
    for (int i = 0; i < 4; ++i) CHECK(f.state[i].sizes() == torch::IntArrayRef({3, 2, 5, 8}));
    CHECK(f.state[4].equal(tokens));
    CHECK(f.state[5].dim() == 0);
    CHECK(f.state[5].item<std::int64_t>() == 5);
  }
  SECTION("a bidirectional transformer keeps no cache") {
    auto options = small_options();
    options.mode = "bidirectional";
    TransformerBackbone encoder(options, small_context());
    CHECK_FALSE(encoder.causal());
    encoder.eval();
    Features f = encoder.forward(BackboneInput{random_tokens(2, 4), {}, {}});
    CHECK(f.sequence.sizes() == torch::IntArrayRef({2, 4, 16}));
    CHECK(f.state.empty());
  }
}

TEST_CASE("transformer names its parameters for stable checkpoint keys", "[transformer]") {
  TransformerBackbone net(small_options(), small_context());
  auto params = net.named_parameters();
  for (const char* key :
       {"token_embedding.weight", "position_embedding.weight", "blocks.0.attention_norm.weight",
        "blocks.0.attention_norm.bias", "blocks.0.qkv.weight", "blocks.0.qkv.bias",
        "blocks.0.proj.weight", "blocks.1.ff_norm.weight", "blocks.1.ff_in.weight",
        "blocks.1.ff_out.bias", "final_norm.weight", "final_norm.bias"}) {
    INFO(key);
    CHECK(params.contains(key));
  }
  CHECK(params["blocks.0.qkv.weight"].sizes() == torch::IntArrayRef({48, 16}));
  CHECK(params["blocks.0.ff_in.weight"].sizes() == torch::IntArrayRef({64, 16}));
  CHECK(params["position_embedding.weight"].sizes() == torch::IntArrayRef({12, 16}));
  CHECK(net.input_embedding()[0].abs().sum().item<double>() == 0.0);  // padding row

  auto options = small_options();
  options.bias = false;
  options.positions = "sinusoidal";
  options.norm = "post";
  TransformerBackbone bare(options, small_context());
  for (const auto& p : bare.named_parameters()) {
    INFO(p.key());
    CHECK(p.key().find("bias") == std::string::npos);
    CHECK(p.key().find("position") == std::string::npos);
    CHECK(p.key().find("final_norm") == std::string::npos);
  }
}

TEST_CASE("transformer initialises like GPT-2", "[transformer]") {
  torch::manual_seed(6);
  auto options = small_options();
  options.width = 64;
  options.layers = 8;
  TransformerBackbone net(options, small_context());
  auto params = net.named_parameters();
  auto std_of = [&](const char* key) { return params[key].std().item<double>(); };
  CHECK(std_of("blocks.0.qkv.weight") == Approx(0.02).epsilon(0.05));
  CHECK(std_of("blocks.0.ff_in.weight") == Approx(0.02).epsilon(0.05));
  CHECK(std_of("blocks.0.proj.weight") == Approx(0.02 / 4.0).epsilon(0.05));  // 1/sqrt(2*8)
  CHECK(std_of("blocks.0.ff_out.weight") == Approx(0.02 / 4.0).epsilon(0.05));
  CHECK(params["blocks.0.qkv.bias"].abs().sum().item<double>() == 0.0);
  CHECK(params["final_norm.weight"].eq(1).all().item<bool>());
}

TEST_CASE("transformer gradients reach every parameter", "[transformer]") {
  torch::manual_seed(1);
  for (auto options : variants()) {
    options.dropout = 0.1;
    TransformerBackbone net(options, small_context());
    net.train();
    Features f = net.forward(BackboneInput{random_tokens(3, 7), {}, {}});
    f.sequence.pow(2).sum().backward();
    for (const auto& p : net.named_parameters()) {
      INFO(describe(options) << " " << p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().abs().sum().item<double>() > 0.0);
    }
  }
}

TEST_CASE("a causal transformer never lets a position see the future", "[transformer]") {
  torch::manual_seed(2);
  for (const auto& options : variants()) {
    INFO(describe(options));
    TransformerBackbone net(options, small_context());
    net.eval();
    torch::NoGradGuard no_grad;
    auto tokens = random_tokens(2, 10);
    Features before = net.forward(BackboneInput{tokens, {}, {}});
    auto changed = tokens.clone();
    changed.select(1, 6).remainder_(kVocab - 1).add_(1);  // a different real token
    REQUIRE_FALSE(changed.equal(tokens));
    Features after = net.forward(BackboneInput{changed, {}, {}});
    CHECK(max_difference(before.sequence.narrow(1, 0, 6), after.sequence.narrow(1, 0, 6)) == 0.0);
    CHECK(max_difference(before.sequence.narrow(1, 6, 4), after.sequence.narrow(1, 6, 4)) > 1e-4);
  }
}

TEST_CASE("a bidirectional transformer sees the whole sequence", "[transformer]") {
  torch::manual_seed(7);
  auto options = small_options();
  options.mode = "bidirectional";
  TransformerBackbone net(options, small_context());
  net.eval();
  torch::NoGradGuard no_grad;
  auto tokens = random_tokens(1, 6);
  auto changed = tokens.clone();
  changed[0][5] = tokens[0][5].item<std::int64_t>() % (kVocab - 1) + 1;
  Features a = net.forward(BackboneInput{tokens, {}, {}});
  Features b = net.forward(BackboneInput{changed, {}, {}});
  CHECK(max_difference(a.sequence.select(1, 0), b.sequence.select(1, 0)) > 1e-4);
}

TEST_CASE("cached step-by-step decoding equals the full forward", "[transformer][cache]") {
  torch::manual_seed(3);
  for (const auto& options : variants()) {
    INFO(describe(options));
    TransformerBackbone net(options, small_context());
    net.eval();
    torch::NoGradGuard no_grad;
    auto tokens = random_tokens(2, options.max_positions);
    Features full = net.forward(BackboneInput{tokens, {}, {}});

    // A 3-token prompt, then one token per call, as the sampler does.
    Features step = net.forward(BackboneInput{tokens.narrow(1, 0, 3), {}, {}});
    std::vector<torch::Tensor> outputs{step.sequence};
    for (std::int64_t t = 3; t < tokens.size(1); ++t) {
      step = net.forward(BackboneInput{tokens.narrow(1, t, 1), {}, step.state});
      outputs.push_back(step.sequence);
    }
    CHECK(max_difference(torch::cat(outputs, 1), full.sequence) < 1e-5);
    REQUIRE(step.state.size() == full.state.size());
    for (std::size_t i = 0; i + 1 < full.state.size(); ++i) {
      CHECK(max_difference(step.state[i], full.state[i]) < 1e-5);
    }
    CHECK(step.state.back().item<std::int64_t>() == options.max_positions);

    // Several new tokens after a cache behave like one at a time.
    Features head = net.forward(BackboneInput{tokens.narrow(1, 0, 4), {}, {}});
    Features rest = net.forward(BackboneInput{tokens.narrow(1, 4, 5), {}, head.state});
    CHECK(max_difference(rest.sequence, full.sequence.narrow(1, 4, 5)) < 1e-5);
  }
}

TEST_CASE("a full key/value cache re-encodes the newest half window", "[transformer][cache]") {
  torch::manual_seed(8);
  for (const auto& options : variants()) {
    INFO(describe(options));
    TransformerBackbone net(options, small_context());
    net.eval();
    torch::NoGradGuard no_grad;
    const std::int64_t window = options.max_positions, half = window / 2;
    const std::int64_t length = 2 * window + 3;
    auto tokens = random_tokens(2, length);
    Features step = net.forward(BackboneInput{tokens.narrow(1, 0, 1), {}, {}});
    std::vector<torch::Tensor> outputs{step.sequence};
    std::int64_t start = 0;  // where the tokens behind the current cache begin
    for (std::int64_t t = 1; t < length; ++t) {
      step = net.forward(BackboneInput{tokens.narrow(1, t, 1), {}, step.state});
      outputs.push_back(step.sequence);
      if (t - start + 1 > window) start = t - half;
      INFO("t = " << t);
      CHECK(step.state[0].size(2) == t - start + 1);
      CHECK(step.state[4].equal(tokens.narrow(1, start, t - start + 1)));
      // Exactly what a fresh forward over the cached tokens computes: positions restart at 0.
      Features fresh = net.forward(BackboneInput{tokens.narrow(1, start, t - start + 1), {}, {}});
      CHECK(max_difference(step.sequence.select(1, 0), fresh.sequence.select(1, -1)) < 1e-5);
    }
    CHECK(step.state.back().item<std::int64_t>() == length);
    auto stepped = torch::cat(outputs, 1);

    // A long input in evaluation is read exactly as step-by-step generation reads it.
    Features long_read = net.forward(BackboneInput{tokens, {}, {}});
    CHECK(max_difference(long_read.sequence, stepped) < 1e-5);
    CHECK(long_read.state.back().item<std::int64_t>() == length);
  }
}

TEST_CASE("transformer refuses a training window longer than max_positions", "[transformer]") {
  TransformerBackbone net(small_options(), small_context());
  net.train();
  CHECK_THROWS_AS(net.forward(BackboneInput{random_tokens(1, 13), {}, {}}), lmforge::ConfigError);
}

TEST_CASE("a bidirectional transformer ignores padded keys", "[transformer]") {
  torch::manual_seed(4);
  for (auto options : variants()) {
    options.mode = "bidirectional";
    INFO(describe(options));
    TransformerBackbone net(options, small_context());
    net.eval();
    torch::NoGradGuard no_grad;
    auto tokens = random_tokens(2, 8);
    auto mask = torch::ones({2, 8}, torch::kBool);
    mask[0].narrow(0, 5, 3).fill_(false);
    tokens[0].narrow(0, 5, 3).fill_(0);
    Features padded = net.forward(BackboneInput{tokens, mask, {}});
    Features alone = net.forward(BackboneInput{tokens.narrow(0, 0, 1).narrow(1, 0, 5), {}, {}});
    CHECK(max_difference(padded.sequence[0].narrow(0, 0, 5), alone.sequence[0]) < 1e-5);
    Features full = net.forward(BackboneInput{tokens.narrow(0, 1, 1), {}, {}});
    CHECK(max_difference(padded.sequence[1], full.sequence[0]) < 1e-5);
    CHECK(torch::isfinite(padded.sequence).all().item<bool>());
    // Without the mask the padding would leak in, so the test above means something.
    Features unmasked = net.forward(BackboneInput{tokens, {}, {}});
    CHECK(max_difference(unmasked.sequence[0].narrow(0, 0, 5), alone.sequence[0]) > 1e-4);
  }
}

TEST_CASE("transformer layer groups hold every parameter exactly once", "[transformer]") {
  for (const auto& options : variants()) {
    INFO(describe(options));
    TransformerBackbone net(options, small_context());
    auto groups = net.layer_groups();
    REQUIRE(groups.size() == 3);  // embeddings + one per block
    CHECK(groups[0][0].is_same(net.input_embedding()));
    CHECK(groups[0].size() == (options.positions == "learned" ? 2u : 1u));
    std::set<const void*> seen;
    std::size_t count = 0;
    for (const auto& group : groups) {
      for (const auto& t : group) {
        seen.insert(t.unsafeGetTensorImpl());
        ++count;
      }
    }
    CHECK(count == seen.size());
    auto params = net.parameters();
    CHECK(params.size() == count);
    for (const auto& p : params) CHECK(seen.count(p.unsafeGetTensorImpl()) == 1);
    if (options.norm == "pre") {
      auto final_weight = net.named_parameters()["final_norm.weight"];
      bool in_last = false;
      for (const auto& t : groups.back()) in_last |= t.is_same(final_weight);
      CHECK(in_last);
    }
  }
}

TEST_CASE("transformer refuses bad options and caches", "[transformer]") {
  auto options = small_options();
  options.heads = 3;
  CHECK_THROWS_AS(TransformerBackbone(options, small_context()), lmforge::ConfigError);
  BackboneContext empty;
  empty.vocab_size = 0;
  CHECK_THROWS_AS(TransformerBackbone(small_options(), empty), lmforge::ConfigError);

  TransformerBackbone net(small_options(), small_context());
  net.eval();
  State wrong{torch::zeros({1, 2, 3, 8})};
  CHECK_THROWS(net.forward(BackboneInput{random_tokens(1, 1), {}, wrong}));
  Features f = net.forward(BackboneInput{random_tokens(2, 3), {}, {}});
  CHECK_THROWS(net.forward(BackboneInput{random_tokens(3, 1), {}, f.state}));  // batch mismatch
}

TEST_CASE("a tiny transformer language model overfits one batch", "[transformer][convergence]") {
  torch::manual_seed(3);
  auto options = small_options();
  options.width = 32;
  auto backbone = std::make_shared<TransformerBackbone>(options, small_context());
  lmforge::HeadContext head_context;
  head_context.input_size = backbone->output_size();
  head_context.num_outputs = kVocab;
  head_context.backbone = backbone.get();
  auto head = std::make_shared<lmforge::LmHead>(lmforge::LmHeadOptions{}, head_context);
  REQUIRE(head->weight().is_same(backbone->input_embedding()));

  auto stream = random_tokens(4, 13);
  auto input = stream.narrow(1, 0, 12);
  auto target = stream.narrow(1, 1, 12);
  std::vector<torch::Tensor> params = backbone->parameters();
  for (const auto& p : head->parameters()) params.push_back(p);
  torch::optim::AdamW adamw(params, torch::optim::AdamWOptions(1e-2).weight_decay(0.0));

  double loss_value = 0;
  for (int step = 0; step < 400; ++step) {
    adamw.zero_grad();
    auto logits = head->forward(backbone->forward(BackboneInput{input, {}, {}}));
    auto loss = head->loss(logits, target);
    loss.backward();
    adamw.step();
    loss_value = loss.item<double>();
    if (loss_value < 0.1) break;
  }
  CHECK(loss_value < 0.1);
}
