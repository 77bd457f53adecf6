// Masked-LM pre-training: the corruption's statistics (15% chosen, 80/10/10) over many draws,
// specials and padding never chosen, whole words chosen together, dynamic masks that a resume
// repeats, the mlm head's loss counting masked positions only (against an independent reference),
// the bad-input refusals, and a tiny bidirectional transformer that learns to fill in masks.
#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "heads/mlm/mlm_head.h"
#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "models/transformer/transformer.h"
#include "support/temp_dir.h"
#include "tasks/mlm/masking.h"
#include "tasks/mlm/mlm_task.h"
#include "text/word_tokenizer.h"

using lmforge::Vocabulary;
using lmforge::mlm::kIgnore;
using lmforge::mlm::Masker;
using lmforge::mlm::MaskingRule;
using lmforge::test::TempDir;

namespace {

constexpr const char* kWordStart = "\xE2\x96\x81";  // ▁

/// <pad> <unk> <bos> <eos>, then w0 .. w{n-1} (ids 4 .. n+3), then <mask> (id n+4).
Vocabulary word_vocabulary(int n) {
  Vocabulary v;
  for (int i = 0; i < n; ++i) v.add("w" + std::to_string(i));
  v.add("<mask>");
  return v;
}

lmforge::TaskContext context(std::int64_t batch_size) {
  lmforge::TaskContext c;
  c.place = "recipe.yaml:4:5";
  c.batch_size = batch_size;
  c.seed = 7;
  return c;
}

lmforge::WordTokenizer word_tokenizer() {
  return lmforge::WordTokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{});
}

lmforge::TransformerOptions small_encoder(const std::string& mode = "bidirectional") {
  lmforge::TransformerOptions o;
  o.mode = mode;
  o.layers = 2;
  o.heads = 2;
  o.width = 32;
  o.dropout = 0.0;
  o.max_positions = 16;
  return o;
}

std::shared_ptr<lmforge::Model> encoder_model(std::int64_t vocab, const std::string& mode) {
  auto backbone = std::make_shared<lmforge::TransformerBackbone>(
      small_encoder(mode), lmforge::BackboneContext{vocab, Vocabulary::kPad});
  auto head = std::make_shared<lmforge::MlmHead>(lmforge::MlmHeadOptions{},
                                                 lmforge::HeadContext{32, vocab, backbone.get()});
  return std::make_shared<lmforge::Model>(backbone, head);
}

}  // namespace

TEST_CASE(
    "mlm masking: 15% of the maskable tokens chosen, then 80% <mask> / 10% random / 10% "
    "kept",
    "[mlm][masking]") {
  const Vocabulary vocabulary = word_vocabulary(96);
  const std::int64_t mask_id = vocabulary.id("<mask>");
  Masker masker(MaskingRule{}, vocabulary, mask_id);
  std::mt19937_64 rng(3);
  double chosen = 0, maskable = 0, to_mask = 0, to_random = 0, kept = 0;
  for (int draw = 0; draw < 50; ++draw) {
    auto tokens = torch::randint(4, 100, {64, 128}, torch::kLong);
    auto batch = masker.apply(tokens, rng);
    auto picked = batch.targets != kIgnore;
    // Targets are the original tokens where chosen; elsewhere the input is untouched.
    CHECK(torch::equal(batch.targets.masked_select(picked), tokens.masked_select(picked)));
    CHECK(torch::equal(batch.input.masked_select(~picked), tokens.masked_select(~picked)));
    CHECK(batch.chosen == picked.sum().item<std::int64_t>());
    maskable += static_cast<double>(tokens.numel());
    chosen += picked.sum().item<double>();
    auto in = batch.input.masked_select(picked), original = tokens.masked_select(picked);
    to_mask += (in == mask_id).sum().item<double>();
    to_random += ((in != mask_id) & (in != original)).sum().item<double>();
    kept += (in == original).sum().item<double>();
  }
  CHECK(chosen / maskable == Approx(0.15).margin(0.003));
  CHECK(to_mask / chosen == Approx(0.8).margin(0.01));
  // A random replacement draws the original token itself once in 96 times.
  CHECK(to_random / chosen == Approx(0.1 * 95.0 / 96.0).margin(0.01));
  CHECK(kept / chosen == Approx(0.1 + 0.1 / 96.0).margin(0.01));
}

TEST_CASE("mlm masking: specials and padding are never chosen nor drawn as replacements",
          "[mlm][masking]") {
  const Vocabulary vocabulary = word_vocabulary(10);
  const std::int64_t mask_id = vocabulary.id("<mask>");
  MaskingRule rule;
  rule.rate = 0.9;  // nearly everything maskable is chosen: specials would surely show up
  rule.mask_token = 0.0;
  rule.random_token = 1.0;
  Masker masker(rule, vocabulary, mask_id);
  // <bos> w w <unk> w <eos> <mask> <pad> <pad>
  auto tokens = torch::tensor({Vocabulary::kBos, std::int64_t{4}, std::int64_t{5}, Vocabulary::kUnk,
                               std::int64_t{6}, Vocabulary::kEos, mask_id, Vocabulary::kPad,
                               Vocabulary::kPad},
                              torch::kLong)
                    .repeat({8, 1});
  auto special = (tokens < 4) | (tokens == mask_id);
  std::mt19937_64 rng(11);
  for (int draw = 0; draw < 200; ++draw) {
    auto batch = masker.apply(tokens, rng);
    CHECK((batch.targets.masked_select(special) == kIgnore).all().item<bool>());
    CHECK(torch::equal(batch.input.masked_select(special), tokens.masked_select(special)));
    auto replaced = batch.input.masked_select(~special);
    CHECK(((replaced >= 4) & (replaced != mask_id)).all().item<bool>());
  }
  // A batch of padding alone has nothing to choose, and that is no error.
  auto empty = masker.apply(torch::zeros({2, 5}, torch::kLong), rng);
  CHECK(empty.chosen == 0);
  CHECK((empty.targets == kIgnore).all().item<bool>());
}

TEST_CASE("mlm masking: whole-word masking chooses all pieces of a word together",
          "[mlm][masking]") {
  Vocabulary vocabulary;
  // Words of 1-3 pieces: a piece with ▁ starts a word, the others continue it.
  const std::vector<std::vector<std::string>> words = {
      {"un", "believ", "able"}, {"the"}, {"cat", "s"},
      {"walk", "ing"},          {"dog"}, {"re", "do", "ne"}};
  std::vector<std::vector<std::int64_t>> word_ids;
  for (const auto& pieces : words) {
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      ids.push_back(vocabulary.add(i == 0 ? kWordStart + pieces[i] : pieces[i]));
    }
    word_ids.push_back(ids);
  }
  const std::int64_t mask_id = vocabulary.add("<mask>");
  CHECK(lmforge::mlm::has_word_pieces(vocabulary));
  CHECK_FALSE(lmforge::mlm::has_word_pieces(word_vocabulary(5)));

  MaskingRule rule;
  rule.whole_word = true;
  Masker masker(rule, vocabulary, mask_id);
  std::mt19937_64 rng(5);
  double chosen = 0, total = 0;
  for (int draw = 0; draw < 300; ++draw) {
    // One row of random words after <bos>; remember where each word lies.
    std::vector<std::int64_t> row{Vocabulary::kBos};
    std::vector<std::pair<std::size_t, std::size_t>> spans;
    for (int w = 0; w < 40; ++w) {
      const auto& ids = word_ids[rng() % word_ids.size()];
      spans.emplace_back(row.size(), row.size() + ids.size());
      row.insert(row.end(), ids.begin(), ids.end());
    }
    auto tokens = torch::tensor(row, torch::kLong).unsqueeze(0);
    auto batch = masker.apply(tokens, rng);
    auto targets = batch.targets.accessor<std::int64_t, 2>();
    for (const auto& [begin, end] : spans) {
      const bool first = targets[0][begin] != kIgnore;
      for (std::size_t t = begin; t < end; ++t) CHECK((targets[0][t] != kIgnore) == first);
    }
    chosen += (batch.targets != kIgnore).sum().item<double>();
    total += static_cast<double>(row.size() - 1);
  }
  // Words are chosen at the rate, so their pieces are too (the at-least-one rule adds a little).
  CHECK(chosen / total == Approx(0.15).margin(0.02));
}

TEST_CASE("mlm task: segments, the <mask> entry, and dynamic masks that a resume repeats",
          "[mlm][task]") {
  TempDir dir;
  std::string text;
  for (int line = 0; line < 40; ++line) {
    for (int w = 0; w < 1 + line % 9; ++w) text += "w" + std::to_string((line * 7 + w) % 30) + " ";
    text += "\n\n";  // blank lines carry nothing and are skipped
  }
  lmforge::MlmOptions options;
  options.train = dir.file("train.txt", text);
  options.max_length = 8;

  SECTION("packed segments are full, <bos> first, and <mask> joins the vocabulary") {
    lmforge::MlmTask task(options, context(4));
    auto tok = word_tokenizer();
    task.prepare(tok, true);
    REQUIRE(tok.vocabulary().contains("<mask>"));
    CHECK(task.num_outputs() == tok.vocabulary().size());
    CHECK_FALSE(task.whole_word());
    const auto& segments = task.segments("train");
    REQUIRE(segments.size() > 2);
    for (std::size_t i = 0; i < segments.size(); ++i) {
      CHECK(segments[i].ids.front() == Vocabulary::kBos);
      if (i + 1 < segments.size()) CHECK(segments[i].ids.size() == 8);
      CHECK(segments[i].ids.size() <= 8);
    }
    CHECK(task.steps_per_epoch() == static_cast<std::int64_t>((segments.size() + 3) / 4));
    CHECK(task.unigram_nats() > std::log(20.0));  // 30 words, roughly uniform
  }
  SECTION("line segments: one per line (cut when longer), never crossing a line") {
    options.segments = "line";
    options.max_length = 5;
    lmforge::MlmTask task(options, context(4));
    auto tok = word_tokenizer();
    task.prepare(tok, true);
    const auto& segments = task.segments("train");
    // Line i has 1 + i%9 words + <eos>: ceil((2 + i%9) / 4) segments of at most 4 after <bos>.
    std::size_t expected = 0;
    for (int line = 0; line < 40; ++line) expected += (2 + line % 9 + 3) / 4;
    CHECK(segments.size() == expected);
    for (const auto& s : segments) CHECK(s.ids.size() <= 5);
  }
  SECTION("masks change from epoch to epoch and repeat for the same seed, epoch and step") {
    lmforge::MlmTask task(options, context(4)), again(options, context(4));
    auto tok = word_tokenizer(), tok2 = word_tokenizer();
    task.prepare(tok, true);
    again.prepare(tok2, true);
    task.start_epoch(0);
    auto first = task.train_batch(1);
    task.start_epoch(1);
    auto second = task.train_batch(1);
    again.start_epoch(0);
    auto repeated = again.train_batch(1);
    CHECK(torch::equal(first.input, repeated.input));
    CHECK(torch::equal(first.targets, repeated.targets));
    // Another epoch: other batches and other masks (compare the chosen positions of every batch).
    bool differs = false;
    task.start_epoch(0);
    std::vector<torch::Tensor> epoch0;
    for (std::int64_t s = 0; s < task.steps_per_epoch(); ++s) {
      epoch0.push_back(task.train_batch(s).targets);
    }
    task.start_epoch(1);
    for (std::int64_t s = 0; s < task.steps_per_epoch(); ++s) {
      auto t = task.train_batch(s).targets;
      differs = differs || t.sizes() != epoch0[s].sizes() || !torch::equal(t, epoch0[s]);
    }
    CHECK(differs);
    (void)second;
  }
}

TEST_CASE("mlm task: bad input gets one clear error", "[mlm][task][errors]") {
  TempDir dir;
  lmforge::MlmOptions options;
  options.train = dir.file("train.txt", "a b c d e f\n");
  options.mask_rate = 0.0;
  CHECK_THROWS_WITH(lmforge::check_options(options, "task 'mlm'"),
                    Catch::Contains("mask_rate must be between"));
  options.mask_rate = 1.0;
  CHECK_THROWS_AS(lmforge::check_options(options, "task 'mlm'"), lmforge::ConfigError);
  options.mask_rate = 0.15;
  CHECK_NOTHROW(lmforge::check_options(options, "task 'mlm'"));
  options.mask_token = 0.95;
  CHECK_THROWS_WITH(lmforge::MlmTask(options, context(2)),
                    Catch::Contains("mask_token (0.95") && Catch::Contains("exceed 1"));
  options.mask_token = 0.8;

  SECTION("a causal backbone is refused: it cannot see a masked token's right context") {
    lmforge::MlmTask task(options, context(2));
    auto tok = word_tokenizer();
    task.prepare(tok, true);
    auto model = encoder_model(task.num_outputs(), "causal");
    task.start_epoch(0);
    CHECK_THROWS_WITH(task.train_step(*model, 0), Catch::Contains("bidirectional backbone"));
  }
  SECTION("a vocabulary from init without <mask> is refused, naming the fix") {
    lmforge::MlmTask task(options, context(2));
    auto tok = word_tokenizer();
    tok.count("a b c");
    tok.build_vocabulary();
    CHECK_THROWS_WITH(task.prepare(tok, false), Catch::Contains("no <mask> token"));
  }
  SECTION("a tokenizer that cannot take a new entry is told how to declare <mask>") {
    class FrozenTokenizer : public lmforge::WordTokenizer {
     public:
      FrozenTokenizer() : WordTokenizer(lmforge::WordTokenizerOptions{}, lmforge::NoContext{}) {}
      void set_vocabulary(Vocabulary) override {
        throw lmforge::DataError("vocab", "tokens do not match the model");
      }
    };
    lmforge::MlmTask task(options, context(2));
    FrozenTokenizer tok;
    CHECK_THROWS_WITH(task.prepare(tok, true), Catch::Contains("user_defined_symbols"));
  }
}

TEST_CASE("mlm head: the loss counts masked positions only and equals a reference", "[mlm][head]") {
  torch::manual_seed(2);
  const std::int64_t vocab = 13;
  auto backbone = std::make_shared<lmforge::TransformerBackbone>(
      small_encoder(), lmforge::BackboneContext{vocab, Vocabulary::kPad});
  lmforge::MlmHead head(lmforge::MlmHeadOptions{}, lmforge::HeadContext{32, vocab, backbone.get()});
  // Tied: the projection is the embedding itself, and the head registers no copy of it.
  CHECK(head.weight().is_same(backbone->input_embedding()));
  CHECK(head.named_parameters().find("weight") == nullptr);
  CHECK(head.named_parameters().find("dense.weight") != nullptr);
  CHECK(head.named_parameters().find("norm.weight") != nullptr);

  auto sequence = torch::randn({2, 5, 32}, torch::requires_grad());
  lmforge::Features features{sequence, {}, {}};
  auto targets = torch::full({2, 5}, kIgnore, torch::kLong);
  targets[0][1] = 4;
  targets[1][3] = 9;
  targets[1][4] = 2;
  auto loss = head.forward_loss(features, targets);

  // Reference: the full logits' log-softmax, averaged by hand over the three masked positions.
  auto log_p = torch::log_softmax(head.forward(features), -1);
  CHECK(head.forward(features).sizes() == torch::IntArrayRef({2, 5, vocab}));
  auto reference = -(log_p[0][1][4] + log_p[1][3][9] + log_p[1][4][2]) / 3.0;
  CHECK(loss.item<double>() == Approx(reference.item<double>()).epsilon(1e-5));
  CHECK(loss.item<double>() ==
        Approx(head.loss(head.forward(features), targets).item<double>()).epsilon(1e-5));

  // Features (and targets) of unmasked positions do not enter the loss; a masked one does.
  auto changed = sequence.detach().clone();
  changed[0][0] += 5.0;
  changed[1][2] -= 3.0;
  CHECK(head.forward_loss({changed, {}, {}}, targets).item<double>() ==
        Approx(loss.item<double>()).epsilon(1e-6));
  changed[1][3] += 1.0;
  CHECK(head.forward_loss({changed, {}, {}}, targets).item<double>() !=
        Approx(loss.item<double>()).epsilon(1e-6));
  loss.backward();
  CHECK(sequence.grad()[0][0].abs().sum().item<double>() == 0.0);
  CHECK(sequence.grad()[0][1].abs().sum().item<double>() > 0.0);

  // Nothing masked: a zero loss with a gradient, not 0/0.
  auto none = head.forward_loss(features, torch::full({2, 5}, kIgnore, torch::kLong));
  CHECK(none.item<double>() == 0.0);
  CHECK(none.requires_grad());
}

TEST_CASE("mlm: a tiny bidirectional transformer learns to fill in masked words",
          "[mlm][task][slow]") {
  torch::manual_seed(1);
  TempDir dir;
  // Six fixed sentences: with the rest of its sentence in view a masked word is predictable.
  const std::vector<std::string> sentences = {
      "the cat sat on the mat today", "a dog ran in the park at noon",
      "birds sing in the tall trees", "we eat fresh bread every morning",
      "rain falls on the old roof",   "my friend reads books at night"};
  std::string text;
  for (int repeat = 0; repeat < 8; ++repeat) {
    for (const auto& s : sentences) text += s + "\n";
  }
  lmforge::MlmOptions options;
  options.train = dir.file("train.txt", text);
  options.valid = options.train;
  options.segments = "line";
  options.max_length = 12;
  lmforge::MlmTask task(options, context(8));
  auto tok = word_tokenizer();
  task.prepare(tok, true);
  auto model = encoder_model(task.num_outputs(), "bidirectional");
  auto before = task.evaluate(*model, "valid");
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
  for (std::int64_t epoch = 0; epoch < 120; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      auto result = task.train_step(*model, step);
      optimizer.zero_grad();
      result.loss.backward();
      optimizer.step();
    }
  }
  auto after = task.evaluate(*model, "valid");
  INFO("masked accuracy " << before["accuracy"] << " -> " << after["accuracy"] << ", loss "
                          << before["loss"] << " -> " << after["loss"] << ", unigram "
                          << task.unigram_nats());
  CHECK(before["accuracy"] < 0.3);
  CHECK(after["accuracy"] > 0.8);
  CHECK(after["loss"] < 0.5 * task.unigram_nats());
  CHECK(after["masked_tokens"] == before["masked_tokens"]);  // the same validation masks
}
