// Batched generation (generate/sampler): N rows decoded together through one cached state give,
// row by row, what decoding each alone gives — greedy for the transformer (across its sliding
// window) and the LSTM, sampled rows with their own seeds, per-row stops at <eos> — and a batch
// of no rows is refused.
#include "generate/sampler.h"

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <vector>

#include "heads/lm/lm_head.h"
#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "models/transformer/transformer.h"
#include "support/small_lstm.h"

using lmforge::SamplingOptions;
using lmforge::Vocabulary;
using Rows = std::vector<std::vector<std::int64_t>>;

namespace {

constexpr std::int64_t kVocab = 23;
const std::vector<std::int64_t> kPrompt{5, 9, 4, 17, 11};

/// Wider weights than the N(0, 0.02) initialisation, so the logits differ by far more than the
/// rounding between a batch of one and a batch of several, and greedy decoding does not settle on
/// one token: the comparisons below then test the batching, not a near-tie.
void spread_weights(lmforge::Model& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.normal_(0.0, 0.5);
}

std::shared_ptr<lmforge::Model> lm_on(std::shared_ptr<lmforge::Backbone> backbone) {
  auto head = std::make_shared<lmforge::LmHead>(lmforge::LmHeadOptions{},
                                                lmforge::test::head_context(*backbone, kVocab));
  auto model = std::make_shared<lmforge::Model>(backbone, head);
  spread_weights(*model);
  return model;
}

std::shared_ptr<lmforge::Model> small_transformer() {
  lmforge::TransformerOptions options;
  options.layers = 2;
  options.heads = 2;
  options.width = 16;
  options.dropout = 0.0;
  options.max_positions = 12;  // shorter than prompt + new tokens: the window slides mid-batch
  lmforge::BackboneContext context;
  context.vocab_size = kVocab;
  context.padding_id = Vocabulary::kPad;
  return lm_on(std::make_shared<lmforge::TransformerBackbone>(options, context));
}

std::shared_ptr<lmforge::Model> small_lstm_lm() {
  return lm_on(lmforge::test::small_lstm(kVocab, Vocabulary::kPad, 16, 24, /*tie_output=*/true));
}

/// Each row of a batch of `rows` next to the same seed's row decoded alone (row r: seed + r).
void check_rows_match_single(lmforge::Model& model, SamplingOptions options, std::int64_t rows) {
  Rows batch = lmforge::sample_rows(model, kPrompt, rows, options, torch::kCPU);
  REQUIRE(batch.size() == static_cast<std::size_t>(rows));
  const std::uint64_t seed = options.seed;
  for (std::int64_t r = 0; r < rows; ++r) {
    options.seed = seed + static_cast<std::uint64_t>(r);
    INFO("row " << r);
    CHECK(batch[r] == lmforge::sample_ids(model, kPrompt, options, torch::kCPU));
  }
}

}  // namespace

TEST_CASE("sampler: greedy rows of a batch equal greedy decoding alone", "[sampler][generate]") {
  torch::manual_seed(3);
  SamplingOptions greedy;
  greedy.temperature = 0;
  greedy.max_tokens = 30;
  for (auto make : {small_transformer, small_lstm_lm}) {
    auto model = make();
    auto alone = lmforge::sample_ids(*model, kPrompt, greedy, torch::kCPU);
    REQUIRE(alone.size() == 30);
    // Not one token repeated throughout, which would make the comparison weak.
    CHECK(std::set<std::int64_t>(alone.begin(), alone.end()).size() > 1);
    Rows batch = lmforge::sample_rows(*model, kPrompt, 5, greedy, torch::kCPU);
    REQUIRE(batch.size() == 5);
    for (const auto& row : batch) CHECK(row == alone);
  }
}

TEST_CASE("sampler: sampled rows are reproducible and each is its seed's sample",
          "[sampler][generate]") {
  torch::manual_seed(4);
  SamplingOptions sampled;
  sampled.max_tokens = 25;
  sampled.seed = 42;
  sampled.top_k = 10;
  sampled.top_p = 0.9;
  for (auto make : {small_transformer, small_lstm_lm}) {
    auto model = make();
    Rows first = lmforge::sample_rows(*model, kPrompt, 4, sampled, torch::kCPU);
    CHECK(lmforge::sample_rows(*model, kPrompt, 4, sampled, torch::kCPU) == first);
    CHECK(std::set<std::vector<std::int64_t>>(first.begin(), first.end()).size() > 1);
    check_rows_match_single(*model, sampled, 4);
  }
}

TEST_CASE("sampler: with stop_at_eos each row stops at its own <eos>", "[sampler][generate]") {
  torch::manual_seed(5);
  auto model = small_lstm_lm();
  {
    // Make <eos> likely enough that rows end at different steps within the budget.
    torch::NoGradGuard no_grad;
    for (auto& parameter : model->head().named_parameters()) {
      if (parameter.key() == "bias") parameter.value()[Vocabulary::kEos] += 2.0;
    }
  }
  SamplingOptions options;
  options.max_tokens = 40;
  options.seed = 7;
  options.stop_at_eos = true;
  Rows rows = lmforge::sample_rows(*model, kPrompt, 6, options, torch::kCPU);
  std::set<std::size_t> lengths;
  for (const auto& row : rows) {
    REQUIRE_FALSE(row.empty());
    lengths.insert(row.size());
    // <eos> only as a finished row's last token.
    for (std::size_t i = 0; i + 1 < row.size(); ++i) CHECK(row[i] != Vocabulary::kEos);
    if (row.size() < 40) CHECK(row.back() == Vocabulary::kEos);
  }
  CHECK(lengths.size() > 1);  // rows did finish at different steps
  check_rows_match_single(*model, options, 6);
}

TEST_CASE("sampler: a batch of no rows is refused", "[sampler][generate]") {
  auto model = small_lstm_lm();
  for (std::int64_t rows : {0, -1}) {
    CHECK_THROWS_AS(lmforge::sample_rows(*model, kPrompt, rows, SamplingOptions{}, torch::kCPU),
                    lmforge::ConfigError);
  }
}

TEST_CASE("sampler: filter_logits filters each row of [rows,V] on its own", "[sampler]") {
  torch::manual_seed(6);
  auto logits = torch::randn({3, kVocab}, torch::kDouble);
  for (auto [top_k, top_p] : {std::pair<std::int64_t, double>{5, 1.0}, {0, 0.7}, {4, 0.5}}) {
    auto together = lmforge::filter_logits(logits, top_k, top_p);
    for (std::int64_t r = 0; r < 3; ++r) {
      INFO("top_k " << top_k << " top_p " << top_p << " row " << r);
      CHECK(torch::equal(together[r], lmforge::filter_logits(logits[r], top_k, top_p)));
    }
  }
}
