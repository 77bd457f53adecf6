// GloVe: co-occurrence counts against a hand count and a brute-force count (also through the
// spill-and-merge path under a tiny memory cap), the shuffle, the fused AdaGrad step against
// autograd, and training whose loss falls and whose vectors find planted synonyms.
#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "lmforge/embeddings.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "support/temp_dir.h"
#include "tasks/glove/adagrad_step.h"
#include "tasks/glove/cooccurrence.h"
#include "tasks/glove/glove_model.h"
#include "tasks/glove/glove_task.h"
#include "tasks/glove/record_io.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::glove::Cooccurrence;
using lmforge::glove::CooccurrenceCounter;
using lmforge::glove::CooccurrenceOptions;
using lmforge::test::TempDir;

namespace {

using Counts = std::map<std::pair<int, int>, double>;

Counts read_all(const std::string& path) {
  std::vector<Cooccurrence> records;
  lmforge::glove::read_records(path, 0, lmforge::glove::count_records(path), records);
  Counts counts;
  for (const auto& r : records) counts[{r.word, r.context}] += r.count;
  return counts;
}

std::vector<Cooccurrence> records_of(const std::string& path) {
  std::vector<Cooccurrence> records;
  lmforge::glove::read_records(path, 0, lmforge::glove::count_records(path), records);
  return records;
}

CooccurrenceOptions counting(const TempDir& dir, std::int64_t window, bool symmetric, bool weighted,
                             std::int64_t memory) {
  CooccurrenceOptions o;
  o.window = window;
  o.symmetric = symmetric;
  o.distance_weighting = weighted;
  o.memory_bytes = memory;
  o.temp_dir = dir.str("runs");
  return o;
}

void check_hand_count(const Counts& c, bool symmetric) {
  // Sentences "4 5 6 4" and "7 7", window 2, 1/distance:
  //   earlier->later pairs: (4,5) d1, (5,6) d1, (4,6) d2, (6,4) d1, (5,4) d2, (7,7) d1.
  if (symmetric) {
    const Counts expected{{{4, 5}, 1.5}, {{4, 6}, 1.5}, {{5, 4}, 1.5}, {{5, 6}, 1.0},
                          {{6, 4}, 1.5}, {{6, 5}, 1.0}, {{7, 7}, 2.0}};
    REQUIRE(c.size() == expected.size());
    for (const auto& [pair, count] : expected) CHECK(c.at(pair) == Approx(count));
  } else {
    const Counts expected{{{4, 5}, 1.0}, {{5, 6}, 1.0}, {{4, 6}, 0.5},
                          {{6, 4}, 1.0}, {{5, 4}, 0.5}, {{7, 7}, 1.0}};
    REQUIRE(c.size() == expected.size());
    for (const auto& [pair, count] : expected) CHECK(c.at(pair) == Approx(count));
  }
}

}  // namespace

TEST_CASE("co-occurrence counts equal a hand count, in memory and through spilled runs",
          "[glove]") {
  TempDir dir("glove_count");
  const std::vector<std::int32_t> first{4, 5, 6, 4}, second{7, 7};
  for (bool symmetric : {true, false}) {
    // 1 GiB keeps everything in the dense table; 64 bytes leaves a 6-cell table and the rest
    // in the pair buffer.
    for (std::int64_t memory : {std::int64_t(1) << 30, std::int64_t(64)}) {
      CAPTURE(symmetric, memory);
      CooccurrenceCounter counter(8, 4, counting(dir, 2, symmetric, true, memory));
      counter.add_sentence(first.data(), first.size());
      counter.add_sentence(second.data(), second.size());
      const auto stats = counter.finish(dir.str("counts.bin"));
      CHECK(stats.tokens == 6);
      if (memory == 64) {
        // The buffer never holds less than a window's pairs, so these two sentences fit in it;
        // the spill-and-merge path is checked against a brute-force count further down.
        CHECK(stats.max_product < 16);
      } else {
        CHECK(stats.runs == 0);
      }
      check_hand_count(read_all(dir.str("counts.bin")), symmetric);
      CHECK((!fs::exists(dir.str("runs")) || fs::is_empty(dir.str("runs"))));
    }
  }
  SECTION("without distance weighting every occurrence counts 1") {
    CooccurrenceCounter counter(8, 4, counting(dir, 2, true, false, 1 << 20));
    counter.add_sentence(first.data(), first.size());
    counter.finish(dir.str("flat.bin"));
    const Counts c = read_all(dir.str("flat.bin"));
    CHECK(c.at({4, 5}) == Approx(2.0));  // (4,5) at d1, and (5,4) at d2 reversed
    CHECK(c.at({5, 6}) == Approx(1.0));
  }
}

TEST_CASE("spill and merge give the brute-force counts, sorted, each pair once", "[glove]") {
  TempDir dir("glove_merge");
  std::mt19937 gen(5);
  // Zipf-like ids so the dense table takes the frequent pairs and the buffer the rest.
  std::vector<double> weights;
  for (int r = 1; r <= 40; ++r) weights.push_back(1.0 / r);
  std::discrete_distribution<int> rank(weights.begin(), weights.end());
  std::vector<std::vector<std::int32_t>> sentences;
  for (int s = 0; s < 300; ++s) {
    std::vector<std::int32_t> ids(1 + gen() % 25);
    for (auto& id : ids) id = 4 + rank(gen);
    sentences.push_back(ids);
  }
  for (bool symmetric : {true, false}) {
    Counts expected;
    const int window = 3;
    for (const auto& ids : sentences) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        for (int d = 1; d <= window && static_cast<std::size_t>(d) <= i; ++d) {
          expected[{ids[i - d], ids[i]}] += 1.0 / d;
          if (symmetric) expected[{ids[i], ids[i - d]}] += 1.0 / d;
        }
      }
    }
    CooccurrenceCounter counter(44, 4, counting(dir, window, symmetric, true, 2000));
    for (const auto& ids : sentences) counter.add_sentence(ids.data(), ids.size());
    const auto stats = counter.finish(dir.str("merged.bin"));
    CAPTURE(symmetric, stats.runs, stats.max_product);
    CHECK(stats.runs >= 5);
    CHECK(stats.max_product > 0);
    const auto records = records_of(dir.str("merged.bin"));
    REQUIRE(records.size() == expected.size());
    std::size_t i = 0;
    for (const auto& [pair, count] : expected) {  // std::map iterates in (word, context) order
      CHECK(records[i].word == pair.first);
      CHECK(records[i].context == pair.second);
      CHECK(records[i].count == Approx(count).epsilon(1e-5));
      ++i;
    }
  }
}

TEST_CASE("the shuffle keeps every record, reorders them, and repeats with the seed", "[glove]") {
  TempDir dir("glove_shuffle");
  std::vector<Cooccurrence> records;
  for (int i = 0; i < 5000; ++i) records.push_back({4 + i / 100, 4 + i % 100, float(i)});
  {
    lmforge::glove::RecordWriter<Cooccurrence> writer(dir.str("sorted.bin"));
    writer.write_many(records.data(), records.size());
    writer.close();
  }
  // 12 KiB holds 1024 records: five shuffled pieces, merged in shares.
  for (std::int64_t memory : {std::int64_t(1) << 20, std::int64_t(12) << 10}) {
    CAPTURE(memory);
    auto shuffled = [&](std::uint64_t seed) {
      REQUIRE(lmforge::glove::shuffle_records(dir.str("sorted.bin"), dir.str("shuf.bin"), memory,
                                              seed, dir.str("tmp")) == 5000);
      return records_of(dir.str("shuf.bin"));
    };
    const auto a = shuffled(1), b = shuffled(1), c = shuffled(2);
    std::vector<float> seen;
    int in_place = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      seen.push_back(a[i].count);
      if (a[i].count == float(i)) ++in_place;
      CHECK(a[i].word == 4 + int(a[i].count) / 100);  // records stay whole
    }
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < seen.size(); ++i) REQUIRE(seen[i] == float(i));
    CHECK(in_place < 50);
    CHECK(std::equal(a.begin(), a.end(), b.begin(),
                     [](auto& x, auto& y) { return x.count == y.count; }));
    CHECK(!std::equal(a.begin(), a.end(), c.begin(),
                      [](auto& x, auto& y) { return x.count == y.count; }));
  }
}

TEST_CASE("the fused AdaGrad step moves the rows by -eta times autograd's gradient", "[glove]") {
  lmforge::glove::GloveBackboneOptions options;
  options.dim = 12;
  lmforge::BackboneContext context;
  context.vocab_size = 10;
  torch::manual_seed(4);
  lmforge::glove::GloveBackbone backbone(options, context);
  lmforge::glove::GloveHeadOptions head_options;
  head_options.x_max = 10;
  lmforge::glove::GloveHead head(head_options, lmforge::HeadContext{});
  {
    torch::NoGradGuard no_grad;
    for (auto& p : backbone.parameters()) p.copy_(torch::randn_like(p) * 0.3);
  }
  for (float x : {3.0f, 25.0f}) {  // below and above x_max
    CAPTURE(x);
    backbone.zero_grad();
    torch::Tensor loss =
        head.loss(head.forward(backbone.forward({torch::tensor({{5, 7}}, torch::kLong), {}, {}})),
                  torch::tensor({x}));
    loss.backward();
    std::map<std::string, torch::Tensor> before, grad;
    for (const auto& p : backbone.named_parameters()) {
      before[p.key()] = p.value().detach().clone();
      grad[p.key()] = p.value().grad().clone();
    }
    std::map<std::string, torch::Tensor> gradsq_before;
    for (const auto& b : backbone.named_buffers()) gradsq_before[b.key()] = b.value().clone();

    lmforge::glove::AdaGradSettings settings;
    settings.dim = 12;
    settings.eta = 0.05f;
    settings.x_max = 10;
    const Cooccurrence record{5, 7, x};
    const auto tally = lmforge::glove::adagrad_update(backbone.tables(), &record, 1, settings);
    CHECK(tally.updates == 1);
    CHECK(tally.cost == Approx(loss.item<double>()).epsilon(1e-4));
    for (const auto& p : backbone.named_parameters()) {
      const std::string& name = p.key();
      // AdaGrad divides by the square root of the running sum; read the sum before this step.
      const torch::Tensor root = gradsq_before[name + "_gradsq"].sqrt();
      const double rate = name.find("bias") != std::string::npos ? 1.0 : settings.eta;
      CHECK(torch::allclose(p.value().detach() - before[name], -rate * grad[name] / root, 1e-4,
                            1e-6));
      // Only rows 5 (word side) and 7 (context side) move.
      const torch::Tensor moved =
          (p.value().detach() - before[name]).abs().reshape({10, -1}).sum(1);
      CHECK(moved.nonzero().numel() == 1);
    }
  }
}

namespace {

// Random walks over 16 slots, slot s going on to s+1 or s+5 (mod 16), each slot filled by one of
// two words: the two words of a slot share every context and never occur together, so good
// vectors make each pair mutual nearest neighbours.
std::string planted_corpus(int sentences, unsigned seed) {
  std::mt19937 gen(seed);
  std::string text;
  for (int s = 0; s < sentences; ++s) {
    int slot = static_cast<int>(gen() % 16);
    for (int i = 0; i < 10; ++i) {
      text += (gen() % 2 ? "x" : "y") + std::to_string(slot) + (i == 9 ? "\n" : " ");
      slot = (slot + (gen() % 2 ? 1 : 5)) % 16;
    }
  }
  return text;
}

lmforge::WordTokenizer word_tokenizer() {
  lmforge::WordTokenizerOptions options;
  options.lowercase = true;
  return lmforge::WordTokenizer(options, lmforge::NoContext{});
}

}  // namespace

TEST_CASE("GloVe training lowers the loss and makes planted synonyms neighbours", "[glove]") {
  TempDir dir("glove_train");
  const std::string corpus = dir.file("corpus.txt", planted_corpus(1500, 3));
  lmforge::glove::GloveTaskOptions options;
  options.train = corpus;
  options.window = 4;
  options.records_per_step = 200;
  options.threads = 2;
  options.memory_mb = 0.01;  // 10 KiB: the real corpus goes through spill and merge too
  lmforge::TaskContext context;
  context.place = "test";
  context.stage_dir = dir.str("stage");
  context.seed = 3;
  auto tokenizer = word_tokenizer();
  lmforge::glove::GloveTask task(options, context);
  task.prepare(tokenizer, true);
  CHECK(task.counting().runs > 0);
  REQUIRE(task.records() > 100);
  const auto vocab = tokenizer.vocabulary();

  lmforge::glove::GloveBackboneOptions backbone_options;
  backbone_options.dim = 16;
  torch::manual_seed(1);
  auto backbone = std::make_shared<lmforge::glove::GloveBackbone>(
      backbone_options, lmforge::BackboneContext{vocab.size(), 0});
  lmforge::glove::GloveHeadOptions head_options;
  head_options.x_max = 10;
  auto head = std::make_shared<lmforge::glove::GloveHead>(head_options, lmforge::HeadContext{});
  lmforge::Model model(backbone, head);
  std::vector<double> epoch_loss;
  for (int epoch = 0; epoch < 25; ++epoch) {
    task.start_epoch(epoch);
    double sum = 0;
    std::int64_t records = 0;
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      auto result = task.train_step(model, step);
      REQUIRE(result.updated);
      sum += result.loss.item<double>() * double(result.tokens);
      records += result.tokens;
    }
    CHECK(records == task.records());
    epoch_loss.push_back(sum / double(records));
  }
  CAPTURE(epoch_loss.front(), epoch_loss[4], epoch_loss.back());
  CHECK(epoch_loss[4] < epoch_loss.front());
  CHECK(epoch_loss.back() < 0.5 * epoch_loss.front());

  lmforge::WordVectors vectors(vocab, backbone->input_embedding().detach());
  int mutual = 0;
  for (int slot = 0; slot < 16; ++slot) {
    const std::string x = "x" + std::to_string(slot), y = "y" + std::to_string(slot);
    if (vectors.nearest(x, 1).front().word == y && vectors.nearest(y, 1).front().word == x) {
      ++mutual;
    }
  }
  CHECK(mutual >= 14);

  SECTION("a second prepare with the same vocabulary reuses the counted records") {
    lmforge::glove::GloveTask again(options, context);
    again.prepare(tokenizer, false);
    CHECK(again.records() == task.records());
    CHECK(again.counting().runs == 0);  // nothing counted this time
  }
}

TEST_CASE("the glove task refuses bad input with the place", "[glove]") {
  TempDir dir("glove_bad");
  lmforge::TaskContext context;
  context.place = "recipe.yaml:4:5 stages.g.task";
  context.stage_dir = dir.str("stage");
  auto tokenizer = word_tokenizer();
  lmforge::glove::GloveTaskOptions options;
  options.train = dir.str("missing.txt");
  CHECK_THROWS_WITH(lmforge::glove::GloveTask(options, context).prepare(tokenizer, true),
                    Catch::Contains("missing.txt") && Catch::Contains("neither a file"));
  options.train = dir.file("empty.txt", "");
  CHECK_THROWS_AS(lmforge::glove::GloveTask(options, context).prepare(tokenizer, true),
                  lmforge::DataError);
  options.train = dir.file("one.txt", "lonely\n");  // one word per line never co-occurs
  CHECK_THROWS_WITH(lmforge::glove::GloveTask(options, context).prepare(tokenizer, true),
                    Catch::Contains("share a window"));
  // Its Hogwild AdaGrad step updates one process's rows: a data-parallel run is refused.
  auto two_ranks = context;
  two_ranks.world_size = 2;
  CHECK_THROWS_WITH(
      lmforge::glove::GloveTask(options, two_ranks),
      Catch::Contains("recipe.yaml:4:5") && Catch::Contains("cannot be split across 2 processes"));
}
