// The lm and classifier heads: shapes, weight tying, gradients, pooling over padded batches and
// label smoothing.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "heads/classifier/classifier_head.h"
#include "heads/lm/fused_cross_entropy.h"
#include "heads/lm/lm_head.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "models/lstm/lstm.h"
#include "support/small_lstm.h"

using lmforge::BackboneInput;
using lmforge::ClassifierHead;
using lmforge::ClassifierHeadOptions;
using lmforge::Features;
using lmforge::HeadContext;
using lmforge::LmHead;
using lmforge::LmHeadOptions;
using lmforge::LstmBackbone;

namespace {

constexpr std::int64_t kVocab = 17;
constexpr std::int64_t kPad = 0;

using lmforge::test::head_context;

std::shared_ptr<LstmBackbone> small_lstm(bool tie_output = true) {
  return lmforge::test::small_lstm(kVocab, kPad, /*embedding=*/6, /*hidden=*/10, tie_output);
}

ClassifierHeadOptions classifier_options(const std::string& pooling, std::int64_t hidden = 0) {
  ClassifierHeadOptions options;
  options.pooling = pooling;
  options.hidden_size = hidden;
  options.dropout = 0.0;
  return options;
}

torch::Tensor random_tokens(std::int64_t batch, std::int64_t length) {
  return torch::randint(1, kVocab, {batch, length}, torch::kLong);
}

void require_all_gradients(torch::nn::Module& module) {
  for (const auto& p : module.named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0.0);
  }
}

}  // namespace

TEST_CASE("tied lm head shares the backbone's embedding", "[heads][lm]") {
  torch::manual_seed(0);
  auto backbone = small_lstm();
  auto head = std::make_shared<LmHead>(LmHeadOptions{}, head_context(*backbone, kVocab));
  CHECK(head->weight().is_same(backbone->input_embedding()));
  CHECK(head->weight().data_ptr() == backbone->input_embedding().data_ptr());

  lmforge::Model model(backbone, head);
  auto params = model.named_parameters();
  // The backbone owns the table: it is saved and optimised once.
  CHECK(params.contains("backbone.embedding.weight"));
  CHECK_FALSE(params.contains("head.weight"));
  CHECK(params.contains("head.bias"));

  {
    torch::NoGradGuard no_grad;
    backbone->input_embedding()[3].fill_(0.5);
  }
  CHECK(head->weight()[3][0].item<float>() == 0.5f);

  auto logits = head->forward(backbone->forward(BackboneInput{random_tokens(2, 5), {}, {}}));
  CHECK(logits.sizes() == torch::IntArrayRef({2, 5, kVocab}));
  head->loss(logits, random_tokens(2, 5)).backward();
  require_all_gradients(model);
}

TEST_CASE("untied lm head owns its weight", "[heads][lm]") {
  torch::manual_seed(1);
  auto backbone = small_lstm(/*tie_output=*/false);
  LmHeadOptions options;
  options.tie_weights = false;
  options.dropout = 0.2;
  auto head = std::make_shared<LmHead>(options, head_context(*backbone, kVocab));
  CHECK(head->named_parameters().contains("weight"));
  CHECK(head->weight().sizes() == torch::IntArrayRef({kVocab, 10}));
  CHECK_FALSE(head->weight().is_same(backbone->input_embedding()));

  lmforge::Model model(backbone, head);
  model.train();
  auto logits = head->forward(backbone->forward(BackboneInput{random_tokens(3, 4), {}, {}}));
  CHECK(logits.sizes() == torch::IntArrayRef({3, 4, kVocab}));
  head->loss(logits, random_tokens(3, 4)).backward();
  require_all_gradients(model);
}

TEST_CASE("lm head without bias has no parameters of its own when tied", "[heads][lm]") {
  auto backbone = small_lstm();
  LmHeadOptions options;
  options.bias = false;
  LmHead head(options, head_context(*backbone, kVocab));
  CHECK(head.parameters().empty());
  auto logits = head.forward(backbone->forward(BackboneInput{random_tokens(1, 3), {}, {}}));
  CHECK(logits.sizes() == torch::IntArrayRef({1, 3, kVocab}));
}

TEST_CASE("tying needs the backbone's output size to equal its embedding size", "[heads][lm]") {
  auto backbone = small_lstm(/*tie_output=*/false);
  try {
    LmHead head(LmHeadOptions{}, head_context(*backbone, kVocab));
    FAIL("expected a ConfigError");
  } catch (const lmforge::ConfigError& e) {
    CHECK_THAT(e.message(), Catch::Contains("tie_output") && Catch::Contains("tie_weights: false"));
  }
  CHECK_THROWS_AS(LmHead(LmHeadOptions{}, head_context(*small_lstm(), kVocab + 1)),
                  lmforge::ConfigError);
}

namespace {

/// Loss and gradients (hidden, weight, bias) of the plain linear + cross_entropy path.
std::vector<torch::Tensor> plain_path(const torch::Tensor& h, const torch::Tensor& w,
                                      const torch::Tensor& b, const torch::Tensor& t) {
  auto hv = h.clone().requires_grad_(), wv = w.clone().requires_grad_(),
       bv = b.clone().requires_grad_();
  auto loss = torch::nn::functional::cross_entropy(
      torch::linear(hv, wv, bv), t,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  (loss * 3.0).backward();  // a non-unit upstream gradient must scale every gradient
  return {loss.detach(), hv.grad(), wv.grad(), bv.grad()};
}

std::vector<torch::Tensor> fused_path(const torch::Tensor& h, const torch::Tensor& w,
                                      const torch::Tensor& b, const torch::Tensor& t,
                                      std::int64_t chunk_bytes) {
  auto hv = h.clone().requires_grad_(), wv = w.clone().requires_grad_(),
       bv = b.clone().requires_grad_();
  auto loss = lmforge::fused_linear_cross_entropy(hv, wv, bv, t, chunk_bytes);
  (loss * 3.0).backward();
  return {loss.detach(), hv.grad(), wv.grad(), bv.grad()};
}

}  // namespace

TEST_CASE("fused projection + cross-entropy equals the plain path, gradients included",
          "[heads][lm][fused]") {
  torch::manual_seed(3);
  const std::int64_t rows = 37, width = 8, vocab = 29;
  auto h = torch::randn({rows, width}), w = torch::randn({vocab, width}) * 0.5,
       b = torch::randn({vocab}) * 0.1;
  auto t = torch::randint(0, vocab, {rows}, torch::kLong);
  t.index_put_({torch::tensor({0, 5, 36})}, -100);  // ignored rows leave the mean
  auto expected = plain_path(h, w, b, t);
  // One chunk, and chunks of 4 rows (the last one shorter) must agree.
  for (std::int64_t chunk_bytes : {std::int64_t{1} << 30, 4 * vocab * 4}) {
    INFO("chunk bytes " << chunk_bytes);
    auto got = fused_path(h, w, b, t, chunk_bytes);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      INFO("output " << i);
      CHECK(torch::allclose(got[i], expected[i], 1e-4, 1e-5));
    }
  }
  // Without a bias (GPT-style heads), against the plain path without one.
  {
    auto hv = h.clone().requires_grad_(), wv = w.clone().requires_grad_();
    auto plain = torch::nn::functional::cross_entropy(
        torch::linear(hv, wv), t,
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    auto plain_grads = torch::autograd::grad({plain}, {hv, wv});
    auto hf = h.clone().requires_grad_(), wf = w.clone().requires_grad_();
    auto fused = lmforge::fused_linear_cross_entropy(hf, wf, torch::Tensor(), t);
    auto fused_grads = torch::autograd::grad({fused}, {hf, wf});
    CHECK(fused.item<double>() == Approx(plain.item<double>()).epsilon(1e-5));
    CHECK(torch::allclose(fused_grads[0], plain_grads[0], 1e-4, 1e-5));
    CHECK(torch::allclose(fused_grads[1], plain_grads[1], 1e-4, 1e-5));
  }
  // Without gradients it is the loss alone, with no autograd node.
  torch::NoGradGuard no_grad;
  auto eval_loss = lmforge::fused_linear_cross_entropy(h, w, b, t);
  CHECK_FALSE(eval_loss.requires_grad());
  CHECK(eval_loss.item<double>() == Approx(expected[0].item<double>()).epsilon(1e-5));
}

TEST_CASE("lm head forward_loss equals loss(forward): tied, untied, without bias",
          "[heads][lm][fused]") {
  for (int variant = 0; variant < 3; ++variant) {
    const bool tie = variant != 1, bias = variant != 2;
    INFO("tie_weights " << tie << ", bias " << bias);
    torch::manual_seed(4);
    auto backbone = small_lstm(/*tie_output=*/true);
    LmHeadOptions options;
    options.tie_weights = tie;
    options.bias = bias;
    LmHead head(options, head_context(*backbone, kVocab));
    auto tokens = random_tokens(3, 7);
    auto targets = random_tokens(3, 7);
    Features features = backbone->forward(BackboneInput{tokens, {}, {}});
    auto plain = head.loss(head.forward(features), targets);
    auto fused = head.forward_loss(features, targets);
    CHECK(fused.item<double>() == Approx(plain.item<double>()).epsilon(1e-5));
    // Gradients reach the same parameters with the same values.
    auto params = backbone->parameters();
    for (auto& p : head.parameters()) params.push_back(p);
    auto plain_grads = torch::autograd::grad({plain}, params, {}, /*retain_graph=*/true);
    auto fused_grads = torch::autograd::grad({fused}, params);
    for (std::size_t i = 0; i < params.size(); ++i) {
      INFO("parameter " << i);
      CHECK(torch::allclose(fused_grads[i], plain_grads[i], 1e-4, 1e-6));
    }
  }
}

TEST_CASE("classifier head gives one logit per label for every pooling", "[heads][classifier]") {
  torch::manual_seed(2);
  auto backbone = small_lstm();
  for (const char* pooling : {"last", "first", "mean", "max", "concat"}) {
    for (std::int64_t hidden : {0, 7}) {
      INFO(pooling << " hidden " << hidden);
      auto head = std::make_shared<ClassifierHead>(classifier_options(pooling, hidden),
                                                   head_context(*backbone, 3));
      auto logits = head->forward(backbone->forward(BackboneInput{random_tokens(4, 6), {}, {}}));
      CHECK(logits.sizes() == torch::IntArrayRef({4, 3}));
    }
  }
  ClassifierHead concat(classifier_options("concat"), head_context(*backbone, 3));
  CHECK(concat.named_parameters()["output.weight"].sizes() == torch::IntArrayRef({3, 18}));
}

TEST_CASE("classifier head gradients reach the backbone and every head parameter",
          "[heads][classifier]") {
  torch::manual_seed(3);
  auto backbone = small_lstm();
  auto options = classifier_options("concat", 5);
  options.dropout = 0.1;
  auto head = std::make_shared<ClassifierHead>(options, head_context(*backbone, 3));
  lmforge::Model model(backbone, head);
  model.train();
  auto tokens = random_tokens(4, 6);
  auto mask = torch::ones({4, 6}, torch::kBool);
  mask[1].narrow(0, 4, 2).fill_(false);
  auto logits = head->forward(backbone->forward(BackboneInput{tokens, mask, {}}));
  head->loss(logits, torch::tensor({0, 1, 2, 1}, torch::kLong)).backward();
  require_all_gradients(model);
}

TEST_CASE("classifier pooling ignores padding", "[heads][classifier]") {
  torch::manual_seed(4);
  const std::int64_t length = 5, extra = 3, hidden = 4;
  auto row = torch::randn({1, length, hidden});
  // Large junk in the padded positions would win max pooling and shift mean if it leaked in.
  auto junk = torch::full({1, extra, hidden}, 100.0);
  auto other = torch::randn({1, length + extra, hidden});
  auto padded = torch::cat({torch::cat({row, junk}, 1), other}, 0);
  auto mask = torch::ones({2, length + extra}, torch::kBool);
  mask[0].narrow(0, length, extra).fill_(false);

  for (const char* pooling : {"last", "first", "mean", "max", "concat"}) {
    INFO(pooling);
    auto alone = ClassifierHead::pool(row, {}, pooling);
    auto batched = ClassifierHead::pool(padded, mask, pooling);
    CHECK(torch::allclose(batched[0], alone[0], 0, 1e-6));
    // The unmasked row pools over all its positions.
    CHECK(torch::allclose(batched[1], ClassifierHead::pool(other, {}, pooling)[0], 0, 1e-6));
  }

  SECTION("left padding too") {
    auto left = torch::cat({junk, row}, 1);
    auto left_mask = torch::ones({1, length + extra}, torch::kBool);
    left_mask[0].narrow(0, 0, extra).fill_(false);
    for (const char* pooling : {"last", "first", "mean", "max"}) {
      INFO(pooling);
      CHECK(torch::allclose(ClassifierHead::pool(left, left_mask, pooling),
                            ClassifierHead::pool(row, {}, pooling), 0, 1e-6));
    }
  }
}

TEST_CASE("classifier on an lstm gives the same logits for a row alone and padded",
          "[heads][classifier]") {
  torch::manual_seed(5);
  auto backbone = small_lstm();
  backbone->eval();
  torch::NoGradGuard no_grad;
  auto row = random_tokens(1, 5);
  auto padded = torch::cat(
      {torch::cat({row, torch::full({1, 3}, kPad, torch::kLong)}, 1), random_tokens(1, 8)}, 0);
  auto mask = padded.ne(kPad);
  for (const char* pooling : {"last", "mean", "max", "concat"}) {
    INFO(pooling);
    ClassifierHead head(classifier_options(pooling, 6), head_context(*backbone, 3));
    head.eval();
    auto alone = head.forward(backbone->forward(BackboneInput{row, {}, {}}));
    auto batched = head.forward(backbone->forward(BackboneInput{padded, mask, {}}));
    CHECK(torch::allclose(batched[0], alone[0], 0, 1e-5));
  }
}

TEST_CASE("classifier label smoothing changes the loss", "[heads][classifier]") {
  torch::manual_seed(6);
  auto backbone = small_lstm();
  auto logits = torch::randn({6, 4});
  auto targets = torch::tensor({0, 1, 2, 3, 1, -100}, torch::kLong);

  ClassifierHead plain(classifier_options("last"), head_context(*backbone, 4));
  auto smoothed_options = classifier_options("last");
  smoothed_options.label_smoothing = 0.2;
  ClassifierHead smoothed(smoothed_options, head_context(*backbone, 4));

  auto plain_loss = plain.loss(logits, targets);
  auto reference =
      torch::nn::functional::cross_entropy(logits.narrow(0, 0, 5), targets.narrow(0, 0, 5));
  CHECK(plain_loss.item<double>() == Approx(reference.item<double>()).epsilon(1e-6));

  auto smoothed_loss = smoothed.loss(logits, targets);
  CHECK(std::abs(smoothed_loss.item<double>() - plain_loss.item<double>()) > 1e-3);
  // Smoothing mixes in the uniform target: (1-a)*CE(target) + a*mean over classes of CE(class).
  auto log_probs = torch::log_softmax(logits.narrow(0, 0, 5), 1);
  double uniform = -log_probs.mean(1).mean().item<double>();
  double expected = 0.8 * reference.item<double>() + 0.2 * uniform;
  CHECK(smoothed_loss.item<double>() == Approx(expected).epsilon(1e-5));
}

TEST_CASE("classifier head refuses an unknown pooling", "[heads][classifier]") {
  auto backbone = small_lstm();
  CHECK_THROWS_AS(ClassifierHead(classifier_options("median"), head_context(*backbone, 3)),
                  lmforge::ConfigError);
}
