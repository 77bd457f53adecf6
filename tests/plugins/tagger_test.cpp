// The tagger head: per-token logits for every option, gradients into the backbone, padding that
// never reaches the loss, and a small LSTM + tagger that learns a context-dependent tagging.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <memory>

#include "heads/tagger/tagger_head.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "models/lstm/lstm.h"
#include "support/small_lstm.h"

using lmforge::BackboneInput;
using lmforge::HeadContext;
using lmforge::LstmBackbone;
using lmforge::TaggerHead;
using lmforge::TaggerHeadOptions;

namespace {

constexpr std::int64_t kVocab = 13;
constexpr std::int64_t kPad = 0;
constexpr int kIgnore = -100;  // an int, so it mixes with other literals in torch::tensor

using lmforge::test::head_context;

std::shared_ptr<LstmBackbone> small_lstm(std::int64_t embedding = 6, std::int64_t hidden = 10) {
  return lmforge::test::small_lstm(kVocab, kPad, embedding, hidden, /*tie_output=*/false);
}

TaggerHeadOptions tagger_options(std::int64_t hidden, double dropout = 0.0,
                                 double smoothing = 0.0) {
  TaggerHeadOptions options;
  options.hidden_size = hidden;
  options.dropout = dropout;
  options.label_smoothing = smoothing;
  return options;
}

torch::Tensor random_tokens(std::int64_t batch, std::int64_t length) {
  return torch::randint(1, kVocab, {batch, length}, torch::kLong);
}

// A tag that needs the previous token as well as the current one: a unidirectional model can
// learn it, a per-word lookup cannot.
torch::Tensor context_tags(const torch::Tensor& tokens, std::int64_t labels) {
  auto previous = torch::cat(
      {torch::zeros({tokens.size(0), 1}, torch::kLong), tokens.narrow(1, 0, tokens.size(1) - 1)},
      1);
  return (tokens + 2 * previous) % labels;
}

}  // namespace

TEST_CASE("tagger head gives [B,T,labels] logits for every option", "[heads][tagger]") {
  torch::manual_seed(0);
  auto backbone = small_lstm();
  for (std::int64_t hidden : {0, 7}) {
    for (double dropout : {0.0, 0.5}) {
      for (double smoothing : {0.0, 0.1}) {
        INFO("hidden " << hidden << " dropout " << dropout << " label_smoothing " << smoothing);
        TaggerHead head(tagger_options(hidden, dropout, smoothing), head_context(*backbone, 5));
        CHECK(head.named_parameters().contains("output.weight"));
        CHECK(head.named_parameters().contains("hidden.weight") == (hidden > 0));
        auto features = backbone->forward(BackboneInput{random_tokens(3, 4), {}, {}});
        for (bool training : {true, false}) {
          head.train(training);
          auto logits = head.forward(features);
          CHECK(logits.sizes() == torch::IntArrayRef({3, 4, 5}));
          auto loss = head.loss(logits, torch::randint(0, 5, {3, 4}, torch::kLong));
          CHECK(loss.dim() == 0);
          CHECK(std::isfinite(loss.item<double>()));
        }
      }
    }
  }
}

TEST_CASE("tagger head refuses a bad context and mismatched targets", "[heads][tagger]") {
  auto backbone = small_lstm();
  CHECK_THROWS_AS(TaggerHead(tagger_options(0), head_context(*backbone, 0)), lmforge::ConfigError);
  CHECK_THROWS_AS(TaggerHead(tagger_options(-1), head_context(*backbone, 3)), lmforge::ConfigError);
  CHECK_THROWS_AS(TaggerHead(tagger_options(0, 1.5), head_context(*backbone, 3)),
                  lmforge::ConfigError);
  TaggerHead head(tagger_options(0), head_context(*backbone, 3));
  // Pooled [B] targets belong to a classifier; the tagger must say so, not broadcast them.
  CHECK_THROWS(head.loss(torch::zeros({2, 4, 3}), torch::zeros({2}, torch::kLong)));
}

TEST_CASE("tagger gradients reach every head and backbone parameter", "[heads][tagger]") {
  torch::manual_seed(1);
  for (std::int64_t hidden : {0, 8}) {
    INFO("hidden " << hidden);
    auto backbone = small_lstm();
    auto head =
        std::make_shared<TaggerHead>(tagger_options(hidden, 0.1, 0.1), head_context(*backbone, 4));
    lmforge::Model model(backbone, head);
    model.train();
    auto tokens = random_tokens(3, 6);
    auto logits = head->forward(backbone->forward(BackboneInput{tokens, {}, {}}));
    head->loss(logits, context_tags(tokens, 4)).backward();
    for (const auto& p : model.named_parameters()) {
      INFO(p.key());
      REQUIRE(p.value().grad().defined());
      CHECK(p.value().grad().abs().sum().item<double>() > 0.0);
    }
  }
}

TEST_CASE("padded positions do not affect the tagger loss", "[heads][tagger]") {
  torch::manual_seed(2);
  auto backbone = small_lstm();
  for (double smoothing : {0.0, 0.2}) {
    INFO("label_smoothing " << smoothing);
    auto head =
        std::make_shared<TaggerHead>(tagger_options(5, 0.0, smoothing), head_context(*backbone, 4));
    lmforge::Model model(backbone, head);
    model.eval();

    // Whatever the logits at ignored positions, the loss is the mean over the real ones.
    auto logits = torch::randn({2, 5, 4}, torch::requires_grad());
    auto targets = torch::tensor({{1, 2, 3, kIgnore, kIgnore}, {0, 1, 2, 3, 0}}, torch::kLong);
    auto loss = head->loss(logits, targets);
    auto scrambled = logits.detach().clone();
    scrambled[0].narrow(0, 3, 2).normal_(0, 50);
    CHECK(head->loss(scrambled, targets).item<double>() == Approx(loss.item<double>()));
    auto real = targets.reshape({-1}) != kIgnore;
    auto expected = torch::nn::functional::cross_entropy(
        logits.reshape({-1, 4}).index({real}), targets.reshape({-1}).index({real}),
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(smoothing));
    CHECK(loss.item<double>() == Approx(expected.item<double>()));
    loss.backward();
    CHECK(logits.grad()[0].narrow(0, 3, 2).abs().sum().item<double>() == 0.0);
    CHECK(logits.grad()[0].narrow(0, 0, 3).abs().sum().item<double>() > 0.0);

    // Through the model: a sentence right-padded inside a batch scores as it does alone.
    torch::NoGradGuard no_grad;
    auto sentence = torch::tensor({{3, 7, 1, 9}}, torch::kLong);
    auto tags = torch::tensor({{0, 3, 1, 2}}, torch::kLong);
    auto alone =
        head->loss(head->forward(backbone->forward(BackboneInput{sentence, {}, {}})), tags);
    auto padded = torch::cat({sentence, torch::full({1, 3}, kPad, torch::kLong)}, 1);
    auto padded_tags = torch::cat({tags, torch::full({1, 3}, kIgnore, torch::kLong)}, 1);
    auto mask = padded != kPad;
    auto in_batch =
        head->loss(head->forward(backbone->forward(BackboneInput{padded, mask, {}})), padded_tags);
    CHECK(in_batch.item<double>() == Approx(alone.item<double>()).epsilon(1e-5));
  }
}

TEST_CASE("a small lstm + tagger learns context-dependent tags of a tiny batch",
          "[heads][tagger]") {
  torch::manual_seed(3);
  constexpr std::int64_t kLabels = 3;
  auto backbone = small_lstm(16, 32);
  auto head = std::make_shared<TaggerHead>(tagger_options(0), head_context(*backbone, kLabels));
  lmforge::Model model(backbone, head);
  auto tokens = random_tokens(6, 8);
  auto targets = context_tags(tokens, kLabels);
  // The last two sentences end early: their tails are padding the model is never scored on.
  tokens.narrow(0, 4, 2).narrow(1, 5, 3).fill_(kPad);
  targets.narrow(0, 4, 2).narrow(1, 5, 3).fill_(kIgnore);
  auto mask = tokens != kPad;
  torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(0.03));
  model.train();
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 200; ++step) {
    optimizer.zero_grad();
    auto loss =
        head->loss(head->forward(backbone->forward(BackboneInput{tokens, mask, {}})), targets);
    loss.backward();
    optimizer.step();
    if (step == 0) first_loss = loss.item<double>();
    last_loss = loss.item<double>();
  }
  model.eval();
  torch::NoGradGuard no_grad;
  auto predicted = head->forward(backbone->forward(BackboneInput{tokens, mask, {}})).argmax(2);
  auto real = targets != kIgnore;
  double accuracy =
      (predicted == targets).logical_and(real).sum().item<double>() / real.sum().item<double>();
  std::cout << "tagger overfit: loss " << first_loss << " -> " << last_loss << ", token accuracy "
            << accuracy << "\n";
  CHECK(last_loss < 0.05 * first_loss);
  CHECK(accuracy == 1.0);
}
