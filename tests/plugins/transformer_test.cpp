// The transformer backbone: shapes and cache layout, causality, the key/value cache against the
// full forward (and its sliding window), padding in bidirectional mode, layer groups, gradients,
// checkpoint names, and a tiny convergence test with a tied lm head — each over every position,
// norm, feed-forward and QK-norm option — plus rotary positions' relativity, SwiGLU's size,
// depth-scaled initialisation and the options' located errors.
#include "models/transformer/transformer.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config_node.h"
#include "config/error_list.h"
#include "config/yaml_options.h"
#include "heads/lm/lm_head.h"
#include "lmforge/error.h"
#include "models/transformer/rotary.h"
#include "support/temp_dir.h"

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
  for (const char* norm : {"pre", "post"}) {
    auto rotary = small_options();
    rotary.positions = "rotary";
    rotary.norm = norm;
    all.push_back(rotary);
  }
  auto swiglu = small_options();
  swiglu.activation = "swiglu";
  all.push_back(swiglu);
  auto qk_norm = small_options();
  qk_norm.qk_norm = true;
  all.push_back(qk_norm);
  auto modern = small_options();  // every new option at once, without biases
  modern.positions = "rotary";
  modern.activation = "swiglu";
  modern.qk_norm = true;
  modern.bias = false;
  all.push_back(modern);
  return all;
}

std::string describe(const TransformerOptions& o) {
  return o.mode + "/" + o.positions + "/" + o.norm + "/" + o.activation +
         (o.qk_norm ? "/qk-norm" : "") + (o.bias ? "" : "/no-bias");
}

std::int64_t parameter_count(torch::nn::Module& net) {
  std::int64_t count = 0;
  for (const auto& p : net.parameters()) count += p.numel();
  return count;
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

  // Without depth scaling the residual projections start like every other matrix.
  options.depth_scaled_init = false;
  TransformerBackbone flat(options, small_context());
  auto flat_params = flat.named_parameters();
  CHECK(flat_params["blocks.0.proj.weight"].std().item<double>() == Approx(0.02).epsilon(0.05));
  CHECK(flat_params["blocks.0.ff_out.weight"].std().item<double>() == Approx(0.02).epsilon(0.05));
}

TEST_CASE("rotary scores depend only on the distance between query and key", "[transformer]") {
  torch::manual_seed(9);
  using lmforge::transformer::apply_rotary;
  using lmforge::transformer::rotary_angles;
  const std::int64_t head_dim = 8, length = 6;
  auto q = torch::randn({2, 3, length, head_dim});
  auto k = torch::randn({2, 3, length, head_dim});
  auto scores_from = [&](std::int64_t query_first, std::int64_t key_first) {
    auto rq = apply_rotary(q, rotary_angles(head_dim, query_first, length, torch::kCPU));
    auto rk = apply_rotary(k, rotary_angles(head_dim, key_first, length, torch::kCPU));
    return torch::matmul(rq, rk.transpose(-2, -1));
  };
  auto at_zero = scores_from(0, 0);
  // Moving queries and keys together by any offset keeps every score.
  for (std::int64_t shift : {1, 7, 50, 1000}) {
    INFO("shift " << shift);
    CHECK(max_difference(scores_from(shift, shift), at_zero) < 1e-4);
  }
  // Moving only the keys changes them, and so does not rotating at all: positions do matter.
  CHECK(max_difference(scores_from(0, 3), at_zero) > 1e-2);
  CHECK(max_difference(torch::matmul(q, k.transpose(-2, -1)), at_zero) > 1e-2);
  // A rotation keeps each vector's length, and position 0 is the identity.
  auto rotated = apply_rotary(q, rotary_angles(head_dim, 5, length, torch::kCPU));
  CHECK(max_difference(rotated.norm(2, -1), q.norm(2, -1)) < 1e-5);
  CHECK(max_difference(apply_rotary(q.narrow(2, 0, 1), rotary_angles(head_dim, 0, 1, torch::kCPU)),
                       q.narrow(2, 0, 1)) < 1e-6);
}

TEST_CASE("a rotary transformer has no position table and reads positions anyway",
          "[transformer]") {
  torch::manual_seed(10);
  auto options = small_options();
  options.positions = "rotary";
  options.mode = "bidirectional";
  TransformerBackbone net(options, small_context());
  for (const auto& p : net.named_parameters()) CHECK(p.key().find("position") == std::string::npos);
  net.eval();
  torch::NoGradGuard no_grad;
  // Two tokens swapped: without positions a bidirectional encoder would give each the same
  // features in either order.
  auto tokens = torch::tensor({{3, 5, 7}}, torch::kLong);
  auto swapped = torch::tensor({{5, 3, 7}}, torch::kLong);
  auto a = net.forward(BackboneInput{tokens, {}, {}}).sequence;
  auto b = net.forward(BackboneInput{swapped, {}, {}}).sequence;
  CHECK(max_difference(a.select(1, 0), b.select(1, 1)) > 1e-4);
  CHECK(max_difference(a.select(1, 2), b.select(1, 2)) > 1e-4);
}

TEST_CASE("SwiGLU keeps the feed-forward's weight count with two thirds of its width",
          "[transformer]") {
  torch::manual_seed(11);
  auto options = small_options();  // the baby GPT of recipes/gpt_char_shakespeare.yaml
  options.layers = 4;
  options.heads = 4;
  options.width = 128;
  options.max_positions = 64;
  TransformerBackbone gelu(options, small_context());
  options.activation = "swiglu";
  TransformerBackbone swiglu(options, small_context());
  auto params = swiglu.named_parameters();
  // round(2/3 * 4 * 128) = 341: gate and value rows in one matrix, then back to the width.
  CHECK(params["blocks.0.ff_in.weight"].sizes() == torch::IntArrayRef({2 * 341, 128}));
  CHECK(params["blocks.0.ff_in.bias"].sizes() == torch::IntArrayRef({2 * 341}));
  CHECK(params["blocks.0.ff_out.weight"].sizes() == torch::IntArrayRef({128, 341}));
  // Weights 3 x 128 x 341 = 130,944 against 2 x 128 x 512 = 131,072 per block; biases
  // 2 x 341 + 128 against 512 + 128.
  const std::int64_t per_block = (3 * 128 * 341 + 2 * 341 + 128) - (2 * 128 * 512 + 512 + 128);
  CHECK(parameter_count(swiglu) - parameter_count(gelu) == 4 * per_block);
  CHECK(std::abs(static_cast<double>(per_block)) / parameter_count(gelu) < 1e-3);

  swiglu.eval();
  torch::NoGradGuard no_grad;
  auto f = swiglu.forward(BackboneInput{random_tokens(2, 9), {}, {}});
  CHECK(f.sequence.sizes() == torch::IntArrayRef({2, 9, 128}));
  CHECK(torch::isfinite(f.sequence).all().item<bool>());
}

TEST_CASE("QK-norm adds one head-wide LayerNorm for queries and one for keys", "[transformer]") {
  auto options = small_options();
  options.qk_norm = true;
  TransformerBackbone net(options, small_context());
  auto params = net.named_parameters();
  for (const char* key : {"blocks.0.q_norm.weight", "blocks.0.q_norm.bias",
                          "blocks.1.k_norm.weight", "blocks.1.k_norm.bias"}) {
    INFO(key);
    REQUIRE(params.contains(key));
    CHECK(params[key].sizes() == torch::IntArrayRef({8}));  // width 16 / 2 heads
  }
  TransformerBackbone plain(small_options(), small_context());
  CHECK(parameter_count(net) - parameter_count(plain) == 2 * 2 * (8 + 8));
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
    TransformerBackbone net(options, small_context());
    // Training (no cache) and evaluation (which builds the cache) take different paths.
    for (bool training : {true, false}) {
      INFO(describe(options) << (training ? " training" : " evaluation"));
      net.train(training);
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
  // Rotary positions turn pairs of features: 16 / 4 heads = 4 is fine, 24 / 8 = 3 is not.
  options = small_options();
  options.positions = "rotary";
  options.heads = 4;
  CHECK_NOTHROW(TransformerBackbone(options, small_context()));
  options.width = 24;
  options.heads = 8;
  CHECK_THROWS_WITH(TransformerBackbone(options, small_context()),
                    Catch::Contains("odd") && Catch::Contains("even width/heads"));
  // Values outside the declared choices, built in C++ without a recipe.
  options = small_options();
  options.activation = "relu";
  CHECK_THROWS_AS(TransformerBackbone(options, small_context()), lmforge::ConfigError);
  options = small_options();
  options.positions = "alibi";
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

TEST_CASE("the new transformer options are checked at their place in the recipe",
          "[transformer][options]") {
  lmforge::test::TempDir dir;
  std::string path = dir.file("backbone.yaml",
                              "backbone:\n"
                              "  type: transformer\n"
                              "  positions: rotery\n"
                              "  activation: swiglo\n"
                              "  qk_norm: maybe\n"
                              "  depth_scaled_init: 2\n");
  YAML::Node root = YAML::LoadFile(path);
  lmforge::YamlOptionReader reader(lmforge::ConfigNode(root["backbone"], path, "backbone"),
                                   "backbone 'transformer'", {"type"});
  try {
    lmforge::parse_options<TransformerOptions>(reader);
    FAIL("no error");
  } catch (const lmforge::ErrorList& e) {
    const auto& lines = e.lines();
    REQUIRE(lines.size() == 4);
    CHECK_THAT(lines[0], Catch::StartsWith(path + ":3:14") && Catch::Contains("rotary") &&
                             Catch::Contains("did you mean 'rotary'?"));
    CHECK_THAT(lines[1],
               Catch::StartsWith(path + ":4:15") && Catch::Contains("did you mean 'swiglu'?"));
    CHECK_THAT(lines[2], Catch::StartsWith(path + ":5:12") && Catch::Contains("got 'maybe'"));
    CHECK_THAT(lines[3], Catch::StartsWith(path + ":6:22") && Catch::Contains("got '2'"));
  }
}
