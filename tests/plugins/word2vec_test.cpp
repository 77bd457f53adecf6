// word2vec: the noise table, Huffman codes, the fused updates against autograd, the text stream
// read in steps, reproducibility, and training that finds planted synonyms.
#include "lmforge/word2vec.h"

#include <torch/torch.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "config/yaml_options.h"
#include "heads/hierarchical_softmax/hierarchical_softmax.h"
#include "heads/negative_sampling/negative_sampling.h"
#include "heads/softmax/softmax.h"
#include "lmforge/error.h"
#include "lmforge/model.h"
#include "lmforge/registry.h"
#include "models/cbow/cbow.h"
#include "models/lstm/lstm.h"
#include "models/skipgram/skipgram.h"
#include "plugins/plugin_loader.h"
#include "support/temp_dir.h"
#include "tasks/word2vec/text_corpus.h"
#include "tasks/word2vec/word2vec_task.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::HeadContext;
using lmforge::HierarchicalSoftmaxHead;
using lmforge::NegativeSamplingHead;
using lmforge::SoftmaxHead;
using lmforge::TextCorpus;
using lmforge::Word2VecRng;
using lmforge::Word2VecTask;
using lmforge::WordTokenizer;

namespace {

using lmforge::test::TempDir;

WordTokenizer tokenizer(std::int64_t min_count = 1) {
  lmforge::WordTokenizerOptions options;
  options.lowercase = true;
  options.vocab.min_count = min_count;
  return WordTokenizer(options, lmforge::NoContext{});
}

HeadContext head_context(std::int64_t dim, std::int64_t vocab) {
  HeadContext context;
  context.input_size = dim;
  context.num_outputs = vocab;
  return context;
}

lmforge::TaskContext task_context(const fs::path& dir, std::uint64_t seed = 1) {
  lmforge::TaskContext context;
  context.place = "test task";
  context.stage_dir = dir.string();
  context.seed = seed;
  return context;
}

lmforge::Features features_of(const torch::Tensor& h) {
  return lmforge::Features{h.view({1, 1, -1}), torch::Tensor(), {}};
}

// Runs the head's fused update once and autograd once from the same weights; returns
// {fused loss, autograd loss} and checks that the fused step moved h and the weights by
// -lr times autograd's gradients.
template <class HeadT>
std::pair<double, double> compare_with_autograd(HeadT& head, std::int64_t target, float lr,
                                                double margin) {
  const std::int64_t dim = head.weight().size(1);
  torch::manual_seed(3);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : head.parameters()) p.copy_(torch::randn_like(p) * 0.4);
  }
  torch::Tensor h = (torch::randn({dim}) * 0.4).requires_grad_(true);
  torch::Tensor loss = head.loss(head.forward(features_of(h)), torch::tensor({target}));
  loss.backward();
  std::vector<torch::Tensor> before, grads;
  for (auto& p : head.parameters()) {
    before.push_back(p.detach().clone());
    grads.push_back(p.grad().clone());
  }
  torch::Tensor hidden = h.detach().clone().contiguous();
  torch::Tensor hidden_update = torch::zeros({dim});
  Word2VecRng rng(7);
  head.prepare_for_test();
  const float fused =
      head.update(hidden.data_ptr<float>(), target, lr, hidden_update.data_ptr<float>(), rng);
  CHECK(torch::allclose(hidden_update, -lr * h.grad(), 0, margin));
  std::size_t i = 0;
  for (auto& p : head.parameters()) {
    CHECK(torch::allclose(p.detach() - before[i], -lr * grads[i], 0, margin));
    ++i;
  }
  return {fused, loss.item<double>()};
}

const std::vector<std::int64_t> kCounts = {0, 0, 0, 0, 1000, 300, 50, 7, 1, 0, 20};

// prepare() with the counts a test chose, callable from compare_with_autograd.
struct TestNegativeSampling : NegativeSamplingHead {
  using NegativeSamplingHead::NegativeSamplingHead;
  std::vector<std::int64_t> counts;
  void prepare_for_test() { prepare(counts); }
};
struct TestHierarchicalSoftmax : HierarchicalSoftmaxHead {
  using HierarchicalSoftmaxHead::HierarchicalSoftmaxHead;
  std::vector<std::int64_t> counts;
  void prepare_for_test() { prepare(counts); }
};
struct TestSoftmax : SoftmaxHead {
  using SoftmaxHead::SoftmaxHead;
  std::vector<std::int64_t> counts;
  void prepare_for_test() { prepare(counts); }
};

}  // namespace

TEST_CASE("negative sampling draws noise words in proportion to count^0.75", "[word2vec]") {
  NegativeSamplingHead head(lmforge::NegativeSamplingOptions{}, head_context(8, 11));
  head.prepare(kCounts);
  double total = 0;
  for (auto c : kCounts) total += std::pow(static_cast<double>(c), 0.75);
  for (std::size_t id = 0; id < kCounts.size(); ++id) {
    const double expected = std::pow(static_cast<double>(kCounts[id]), 0.75) / total;
    CHECK(head.noise_probability(static_cast<std::int64_t>(id)) == Approx(expected).margin(1e-8));
  }
  // And the draws follow the table: 2M draws, each frequency within 5 standard errors.
  Word2VecRng rng(11);
  std::vector<double> seen(kCounts.size(), 0);
  const int draws = 2000000;
  for (int i = 0; i < draws; ++i) seen[static_cast<std::size_t>(head.sample(rng))] += 1;
  for (std::size_t id = 0; id < kCounts.size(); ++id) {
    const double p = std::pow(static_cast<double>(kCounts[id]), 0.75) / total;
    const double error = std::sqrt(p * (1 - p) / draws);
    CHECK(std::abs(seen[id] / draws - p) <= 5 * error + 1e-9);
    if (kCounts[id] == 0) CHECK(seen[id] == 0);
  }
}

TEST_CASE("Huffman codes match a hand-built tree", "[word2vec]") {
  // a:5 b:3 c:1 d:1 -> merge c+d (d first, so c takes branch 1), then {cd}+b, then a+{bcd}.
  auto paths = lmforge::build_huffman_tree({5, 3, 1, 1});
  REQUIRE(paths.size() == 4);
  using Nodes = std::vector<std::int32_t>;
  using Codes = std::vector<std::uint8_t>;
  CHECK(paths[0].nodes == Nodes{2});
  CHECK(paths[0].codes == Codes{1});
  CHECK(paths[1].nodes == Nodes{2, 1});
  CHECK(paths[1].codes == Codes{0, 1});
  CHECK(paths[2].nodes == Nodes{2, 1, 0});
  CHECK(paths[2].codes == Codes{0, 0, 1});
  CHECK(paths[3].nodes == Nodes{2, 1, 0});
  CHECK(paths[3].codes == Codes{0, 0, 0});
}

TEST_CASE("Huffman codes are prefix-free, complete and shorter for frequent words", "[word2vec]") {
  std::mt19937 gen(5);
  std::vector<std::int64_t> counts(300);
  for (auto& c : counts)
    c = static_cast<std::int64_t>(std::exp(std::uniform_real_distribution<>(0, 12)(gen)));
  counts[0] = counts[1] = 0;  // specials
  auto paths = lmforge::build_huffman_tree(counts);
  const auto vocab = static_cast<std::int32_t>(counts.size());
  std::set<std::vector<std::uint8_t>> codes;
  double kraft = 0;
  for (const auto& path : paths) {
    REQUIRE(!path.codes.empty());
    REQUIRE(path.codes.size() == path.nodes.size());
    CHECK(path.nodes.front() == vocab - 2);  // the root
    for (auto node : path.nodes) CHECK((node >= 0 && node < vocab - 1));
    codes.insert(path.codes);
    kraft += std::pow(2.0, -static_cast<double>(path.codes.size()));
  }
  CHECK(codes.size() == paths.size());
  CHECK(kraft == Approx(1.0));  // a full binary tree: no code wasted
  for (const auto& a : codes) {
    for (const auto& b : codes) {
      if (a.size() < b.size()) CHECK(!std::equal(a.begin(), a.end(), b.begin()));
    }
  }
  for (std::size_t i = 0; i < counts.size(); ++i) {
    for (std::size_t j = 0; j < counts.size(); ++j) {
      if (counts[i] > counts[j]) CHECK(paths[i].codes.size() <= paths[j].codes.size());
    }
  }
  // The same inner node always means the same decision point: its depth is fixed.
  std::map<std::int32_t, std::size_t> depth;
  for (const auto& path : paths) {
    for (std::size_t d = 0; d < path.nodes.size(); ++d) {
      auto [it, inserted] = depth.emplace(path.nodes[d], d);
      CHECK(it->second == d);
    }
  }
  CHECK(depth.size() == counts.size() - 1);
}

TEST_CASE("hierarchical softmax forward is a normalised distribution", "[word2vec]") {
  HierarchicalSoftmaxHead head(lmforge::NoOptions{}, head_context(6, 11));
  head.prepare(kCounts);
  {
    torch::NoGradGuard no_grad;
    head.weight().copy_(torch::randn_like(head.weight()));
  }
  torch::Tensor log_probs = head.forward(features_of(torch::randn({6})));
  CHECK(log_probs.sizes() == torch::IntArrayRef({1, 1, 11}));
  CHECK(log_probs.exp().sum().item<double>() == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("fused updates equal -lr times autograd's gradients", "[word2vec]") {
  const float lr = 0.5f;
  SECTION("softmax") {
    TestSoftmax head(lmforge::SoftmaxHeadOptions{}, head_context(5, 9));
    head.counts.assign(9, 1);
    head.prepare_for_test();
    auto [fused, reference] = compare_with_autograd(head, 4, lr, 1e-5);
    CHECK(fused == Approx(reference).epsilon(1e-5));
  }
  SECTION("hierarchical softmax") {
    // The fused path reads sigmoid from a 1024-entry table: about 1e-3 from exact.
    TestHierarchicalSoftmax head(lmforge::NoOptions{}, head_context(5, 11));
    head.counts = kCounts;
    head.prepare_for_test();
    auto [fused, reference] = compare_with_autograd(head, 6, lr, 3e-3);
    CHECK(fused == Approx(reference).epsilon(1e-2));
  }
  SECTION("negative sampling") {
    // One noise word that can only be word 5: the fused and autograd losses see the same pair.
    lmforge::NegativeSamplingOptions options;
    options.negative = 1;
    TestNegativeSampling head(options, head_context(5, 11));
    head.counts = std::vector<std::int64_t>(11, 0);
    head.counts[5] = 10;
    head.prepare_for_test();
    auto [fused, reference] = compare_with_autograd(head, 7, lr, 3e-3);
    CHECK(fused == Approx(reference).epsilon(1e-2));
  }
}

TEST_CASE("repeated fused updates lower the loss for every head", "[word2vec]") {
  const std::int64_t dim = 8, vocab = 11;
  std::vector<std::shared_ptr<lmforge::Word2VecHead>> heads = {
      std::make_shared<NegativeSamplingHead>(lmforge::NegativeSamplingOptions{},
                                             head_context(dim, vocab)),
      std::make_shared<HierarchicalSoftmaxHead>(lmforge::NoOptions{}, head_context(dim, vocab)),
      std::make_shared<SoftmaxHead>(lmforge::SoftmaxHeadOptions{}, head_context(dim, vocab))};
  for (auto& head : heads) {
    head->prepare(kCounts);
    torch::manual_seed(1);
    // Four fixed inputs, each with its own target; inputs are trained too, as in word2vec.
    torch::Tensor inputs = torch::randn({4, dim}) * 0.5;
    const std::vector<std::int64_t> targets = {4, 5, 6, 10};
    Word2VecRng rng(3);
    auto epoch_loss = [&](float lr) {
      double total = 0;
      std::vector<float> update(dim);
      for (std::int64_t i = 0; i < 4; ++i) {
        std::fill(update.begin(), update.end(), 0.0f);
        float* h = inputs[i].data_ptr<float>();
        total += head->update(h, targets[static_cast<std::size_t>(i)], lr, update.data(), rng);
        for (std::int64_t d = 0; d < dim; ++d) h[d] += update[static_cast<std::size_t>(d)];
      }
      return total / 4;
    };
    const double first = epoch_loss(0.1f);
    double last = first;
    for (int e = 0; e < 200; ++e) last = epoch_loss(0.1f);
    CHECK(last < 0.5 * first);
  }
}

TEST_CASE("cbow and skipgram backbones: shapes, masking and word2vec's initialisation",
          "[word2vec]") {
  lmforge::BackboneContext context;
  context.vocab_size = 30;
  lmforge::CbowOptions cbow_options;
  cbow_options.dim = 10;
  lmforge::CbowBackbone cbow(cbow_options, context);
  CHECK(cbow.input_embedding().sizes() == torch::IntArrayRef({30, 10}));
  CHECK(cbow.input_embedding().abs().max().item<double>() <= 0.1);
  torch::Tensor tokens = torch::tensor({{4, 5, 6, 7}, {8, 9, 0, 0}});
  torch::Tensor mask = tokens != 0;
  auto out = cbow.forward(lmforge::BackboneInput{tokens, mask, {}});
  CHECK(out.sequence.sizes() == torch::IntArrayRef({2, 1, 10}));
  torch::Tensor table = cbow.input_embedding();
  CHECK(torch::allclose(out.sequence[1][0], (table[8] + table[9]) / 2));
  CHECK(cbow.layer_groups().size() == 1);
  CHECK(cbow.named_parameters().contains("embedding"));

  lmforge::SkipGramOptions sg_options;
  sg_options.dim = 10;
  lmforge::SkipGramBackbone skipgram(sg_options, context);
  auto sg = skipgram.forward(lmforge::BackboneInput{tokens, {}, {}});
  CHECK(sg.sequence.sizes() == torch::IntArrayRef({2, 4, 10}));
  CHECK(torch::equal(sg.sequence[0][1], skipgram.input_embedding()[5]));
}

namespace {

// Records what a backbone's pass asks the head to score, and updates nothing.
class RecordingHead : public lmforge::Word2VecHead {
 public:
  explicit RecordingHead(std::int64_t dim) : dim_(dim) {}
  void prepare(const std::vector<std::int64_t>&) override {}
  float update(const float* hidden, std::int64_t target, float, float*,
               lmforge::Word2VecRng&) override {
    calls.push_back({std::vector<float>(hidden, hidden + dim_), target});
    return 1.0f;
  }
  std::vector<std::pair<std::vector<float>, std::int64_t>> calls;

 private:
  std::int64_t dim_;
};

std::vector<float> row_of(const torch::Tensor& table, std::int64_t id) {
  auto row = table[id].contiguous();
  return {row.data_ptr<float>(), row.data_ptr<float>() + row.numel()};
}

}  // namespace

TEST_CASE("cbow and skipgram backbones say how a window becomes what the head scores",
          "[word2vec]") {
  lmforge::BackboneContext context;
  context.vocab_size = 10;
  const std::int64_t dim = 4;
  std::vector<float> hidden(dim), update(dim);
  const std::int32_t ids[] = {4, 5, 6};
  const lmforge::Word2VecSentence sentence{ids, 3, 0.1f};
  lmforge::Word2VecRng rng(1);

  lmforge::CbowOptions cbow_options;
  cbow_options.dim = dim;
  lmforge::CbowBackbone cbow(cbow_options, context);
  torch::Tensor table = cbow.input_embedding().detach();
  RecordingHead cbow_head(dim);
  // A window of 1: every centre word sees its direct neighbours.
  lmforge::Word2VecRows rows{table.data_ptr<float>(), dim,          1, &cbow_head,
                             hidden.data(),           update.data()};
  lmforge::Word2VecLoss loss;
  cbow.train_sentence(rows, sentence, rng, loss);
  REQUIRE(cbow_head.calls.size() == 3);
  CHECK(loss.updates == 3);
  CHECK(loss.loss == Approx(3.0));
  CHECK(cbow_head.calls[0].first == row_of(table, 5));
  CHECK(cbow_head.calls[0].second == 4);
  auto mean = (table[4] + table[6]) / 2;
  CHECK(torch::allclose(torch::tensor(cbow_head.calls[1].first), mean));
  CHECK(cbow_head.calls[1].second == 5);
  CHECK(cbow_head.calls[2].second == 6);

  lmforge::SkipGramOptions sg_options;
  sg_options.dim = dim;
  lmforge::SkipGramBackbone skipgram(sg_options, context);
  torch::Tensor sg_table = skipgram.input_embedding().detach();
  RecordingHead sg_head(dim);
  rows.input = sg_table.data_ptr<float>();
  rows.head = &sg_head;
  lmforge::Word2VecLoss sg_loss;
  skipgram.train_sentence(rows, sentence, rng, sg_loss);
  // Each context word predicts the centre: (5 -> 4), (4 -> 5), (6 -> 5), (5 -> 6).
  REQUIRE(sg_head.calls.size() == 4);
  const std::pair<std::int64_t, std::int64_t> expected[] = {{5, 4}, {4, 5}, {6, 5}, {5, 6}};
  for (std::size_t k = 0; k < 4; ++k) {
    CHECK(sg_head.calls[k].first == row_of(sg_table, expected[k].first));
    CHECK(sg_head.calls[k].second == expected[k].second);
  }
}

TEST_CASE("the text stream read in steps gives every line once", "[word2vec]") {
  TempDir dir;
  fs::create_directories(dir.path / "books");
  dir.file("books/a.txt", "The cat sat.\nOn the mat!\n\nA new paragraph\n");
  dir.file("books/b.txt", "no trailing newline, here");
  dir.file("books/c.txt", "");
  dir.file("books/d.txt", std::string(5000, 'x') + " long\n\n\nend of d\n");
  dir.file("books/notes.md", "not a .txt file");
  TextCorpus corpus((dir.path / "books").string(), "test");
  REQUIRE(corpus.files().size() == 4);
  std::string whole;
  corpus.read_lines(0, corpus.size(), whole);
  CHECK(whole == "The cat sat.\nOn the mat!\n\nA new paragraph\n\nno trailing newline, here\n\n" +
                     std::string(5000, 'x') + " long\n\n\nend of d\n\n");
  auto tok = tokenizer();
  auto count_tokens = [&](const std::string& text) {
    std::int64_t n = 0;
    TextCorpus::split_lines(text, [&](std::string_view line) { n += tok.split(line).size(); });
    return n;
  };
  for (std::int64_t step : {1, 3, 7, 64, 1000, 4999, 5001, 100000}) {
    std::string pieces;
    for (std::int64_t begin = 0; begin < corpus.size(); begin += step) {
      corpus.read_lines(begin, begin + step, pieces);
    }
    CHECK(pieces == whole);
  }
  std::int64_t streamed = 0;
  corpus.for_each_line([&](std::string_view line) { streamed += tok.split(line).size(); });
  CHECK(streamed == count_tokens(whole));

  // A glob selects the same files.
  TextCorpus globbed((dir.path / "books" / "*.txt").string(), "test");
  CHECK(globbed.files() == corpus.files());
  CHECK_THROWS_AS(TextCorpus((dir.path / "missing.txt").string(), "test"), lmforge::DataError);
  CHECK_THROWS_AS(TextCorpus((dir.path / "books" / "*.csv").string(), "test"), lmforge::DataError);
}

namespace {

// Sentences are random walks over 20 slots, slot s going on to s+1 or s+7 (mod 20); every slot
// is filled by one of two words at random. The two words of a slot share every context, and no
// two slots share their neighbours, so a good embedding makes each pair mutual nearest neighbours.
std::string planted_corpus(int sentences, unsigned seed) {
  std::mt19937 gen(seed);
  const int slots = 20;
  std::vector<std::array<int, 2>> next(slots);
  for (int s = 0; s < slots; ++s)
    next[static_cast<std::size_t>(s)] = {(s + 1) % slots, (s + 7) % slots};
  std::string text;
  for (int s = 0; s < sentences; ++s) {
    int slot = static_cast<int>(gen() % slots);
    for (int i = 0; i < 12; ++i) {
      text += (gen() % 2 ? "a" : "b") + std::to_string(slot) + (i == 11 ? "\n" : " ");
      slot = next[static_cast<std::size_t>(slot)][gen() % 2];
    }
  }
  return text;
}

struct Trained {
  lmforge::Vocabulary vocabulary;
  torch::Tensor vectors;
  std::vector<double> losses;
  std::int64_t tokens = 0;
};

template <class BackboneT, class HeadT>
Trained train(const std::string& path, const lmforge::Word2VecTaskOptions& options,
              typename HeadT::Options head_options, const fs::path& dir) {
  auto tok = tokenizer();
  Word2VecTask task(options, task_context(dir));
  task.prepare(tok, true);
  typename BackboneT::Options backbone_options;
  backbone_options.dim = 24;
  lmforge::BackboneContext context;
  context.vocab_size = tok.vocabulary().size();
  torch::manual_seed(2);
  auto backbone = std::make_shared<BackboneT>(backbone_options, context);
  auto head = std::make_shared<HeadT>(head_options, head_context(24, task.num_outputs()));
  lmforge::Model model(backbone, head);
  Trained out{tok.vocabulary(), {}, {}, 0};
  for (std::int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      auto result = task.train_step(model, step);
      CHECK(result.updated);
      out.losses.push_back(result.loss.item<double>());
      out.tokens += result.tokens;
    }
  }
  out.vectors = backbone->input_embedding().detach().clone();
  return out;
}

// How many of the 20 planted pairs are each other's nearest neighbour by cosine.
int mutual_pairs(const Trained& t) {
  torch::Tensor unit = t.vectors / t.vectors.norm(2, 1, true).clamp_min(1e-8);
  torch::Tensor cosine = unit.matmul(unit.t());
  cosine.fill_diagonal_(-2);
  cosine.narrow(0, 0, 4).fill_(-2);  // specials are never neighbours
  cosine.narrow(1, 0, 4).fill_(-2);
  torch::Tensor nearest = cosine.argmax(1);
  int found = 0;
  for (int slot = 0; slot < 20; ++slot) {
    const auto a = t.vocabulary.id("a" + std::to_string(slot));
    const auto b = t.vocabulary.id("b" + std::to_string(slot));
    if (nearest[a].item<std::int64_t>() == b && nearest[b].item<std::int64_t>() == a) ++found;
  }
  return found;
}

lmforge::Word2VecTaskOptions planted_options(const std::string& path) {
  lmforge::Word2VecTaskOptions options;
  options.train = path;
  options.window = 2;
  options.sample = 0;  // 40 words, all frequent: subsampling would drop most of them
  options.words_per_step = 20000;
  options.threads = 2;
  options.epochs = 2;
  return options;
}

}  // namespace

TEST_CASE("training finds planted synonyms: CBOW with negative sampling", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("planted.txt", planted_corpus(15000, 1));
  Trained t = train<lmforge::CbowBackbone, NegativeSamplingHead>(
      path, planted_options(path), lmforge::NegativeSamplingOptions{}, dir.path);
  CHECK(mutual_pairs(t) == 20);
  CHECK(t.tokens == 15000 * 12 * 2);
  CHECK(t.losses.back() < t.losses.front());
}

TEST_CASE("training finds planted synonyms: skip-gram with hierarchical softmax", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("planted.txt", planted_corpus(15000, 2));
  Trained t = train<lmforge::SkipGramBackbone, HierarchicalSoftmaxHead>(
      path, planted_options(path), lmforge::NoOptions{}, dir.path);
  CHECK(mutual_pairs(t) == 20);
  CHECK(t.losses.back() < t.losses.front());
}

TEST_CASE("training finds planted synonyms: CBOW with the full softmax", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("planted.txt", planted_corpus(15000, 3));
  Trained t = train<lmforge::CbowBackbone, SoftmaxHead>(path, planted_options(path),
                                                        lmforge::SoftmaxHeadOptions{}, dir.path);
  CHECK(mutual_pairs(t) == 20);
}

TEST_CASE("a new word2vec backbone is one plugin: position-weighted CBOW from its own library",
          "[word2vec]") {
  // tests/plugins/weighted_cbow: built as a separate shared library, registered through the
  // loader, trained by the unchanged word2vec task.
  lmforge::PluginLoader::instance().load_file(
      (fs::path(LMFORGE_TEST_PLUGIN_DIR) / "test_plugin_weighted_cbow.so").string());
  TempDir dir;
  const std::string path = dir.file("planted.txt", planted_corpus(15000, 4));
  auto options = planted_options(path);
  auto tok = tokenizer();
  Word2VecTask task(options, task_context(dir.path));
  task.prepare(tok, true);
  YAML::Node node = YAML::Load("{type: weighted_cbow, dim: 24}");
  lmforge::YamlOptionReader reader(lmforge::ConfigNode(node, "test", "backbone"), "backbone");
  torch::manual_seed(2);
  auto backbone = lmforge::Registry::instance().make_backbone(
      "weighted_cbow", reader, lmforge::BackboneContext{tok.vocabulary().size(), 0}, "test");
  auto head = std::make_shared<NegativeSamplingHead>(lmforge::NegativeSamplingOptions{},
                                                     head_context(24, task.num_outputs()));
  lmforge::Model model(backbone, head);
  Trained t{tok.vocabulary(), {}, {}, 0};
  for (std::int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) {
      auto result = task.train_step(model, step);
      CHECK(result.updated);
      t.losses.push_back(result.loss.item<double>());
    }
  }
  t.vectors = backbone->input_embedding().detach().clone();
  CHECK(t.losses.back() < t.losses.front());
  CHECK(mutual_pairs(t) >= 18);

  // Its pass weights the context by distance: with a window of 2 the centre of five words sees
  // (r1 + r3) * 1/3 + (r0 + r4) * 1/6.
  auto* w2v_backbone = dynamic_cast<lmforge::Word2VecBackbone*>(backbone.get());
  REQUIRE(w2v_backbone != nullptr);
  torch::Tensor table = backbone->input_embedding().detach();
  const std::int64_t dim = 24;
  std::vector<float> hidden(dim), update(dim);
  RecordingHead recorder(dim);
  const std::int32_t ids[] = {4, 5, 6, 7, 8};
  lmforge::Word2VecRows rows{table.data_ptr<float>(), dim,          2, &recorder,
                             hidden.data(),           update.data()};
  lmforge::Word2VecLoss loss;
  // Draw until the centre word got the full window of 2 (the reach is drawn per word).
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    recorder.calls.clear();
    lmforge::Word2VecRng rng(seed);
    w2v_backbone->train_sentence(rows, {ids, 5, 0.0f}, rng, loss);
    auto expected = (table[5] + table[7]) / 3 + (table[4] + table[8]) / 6;
    if (recorder.calls.size() == 5 &&
        torch::allclose(torch::tensor(recorder.calls[2].first), expected, 1e-5, 1e-6)) {
      SUCCEED("distance-weighted hidden vector for the centre word");
      return;
    }
  }
  FAIL("no draw gave the centre word its distance-weighted window");
}

TEST_CASE("one worker thread makes a run reproducible", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("planted.txt", planted_corpus(3000, 4));
  auto options = planted_options(path);
  options.threads = 1;
  Trained a = train<lmforge::SkipGramBackbone, NegativeSamplingHead>(
      path, options, lmforge::NegativeSamplingOptions{}, dir.path);
  Trained b = train<lmforge::SkipGramBackbone, NegativeSamplingHead>(
      path, options, lmforge::NegativeSamplingOptions{}, dir.path);
  CHECK(torch::equal(a.vectors, b.vectors));
  CHECK(a.losses == b.losses);
}

TEST_CASE("steps cover the text: their token counts add up to the whole", "[word2vec]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "Line " + std::to_string(i % 50) + ", of words!\n";
  const std::string path = dir.file("text.txt", text);
  auto tok = tokenizer();
  std::int64_t whole = 0;
  TextCorpus::split_lines(text, [&](std::string_view line) { whole += tok.split(line).size(); });
  auto options = planted_options(path);
  options.words_per_step = 1000;  // below the 64 KiB floor: steps are 64 KiB
  options.epochs = 1;
  Trained t = train<lmforge::CbowBackbone, NegativeSamplingHead>(
      path, options, lmforge::NegativeSamplingOptions{}, dir.path);
  CHECK(t.tokens == whole);
  CHECK(t.losses.size() == (text.size() + (64 << 10) - 1) / (64 << 10));
}

TEST_CASE("write_tokenized writes the sentences the model sees", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("text.txt", "The Cat sat.\nOn the mat!\n\nNew paragraph\n");
  for (std::string mode : {"line", "paragraph"}) {
    lmforge::Word2VecTaskOptions options;
    options.train = path;
    options.sentences = mode;
    options.write_tokenized = (dir.path / ("out_" + mode + ".txt")).string();
    Word2VecTask task(options, task_context(dir.path));
    auto tok = tokenizer();
    task.prepare(tok, true);
    std::ifstream in(options.write_tokenized);
    std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(written == (mode == "line" ? "the cat sat .\non the mat !\nnew paragraph\n"
                                     : "the cat sat . on the mat !\nnew paragraph\n"));
  }
}

TEST_CASE("the word2vec task refuses bad input with one clear error", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("text.txt", planted_corpus(100, 5));
  auto tok = tokenizer();
  SECTION("a data-parallel run (its Hogwild step would let the ranks drift apart)") {
    auto context = task_context(dir.path);
    context.world_size = 2;
    context.rank = 1;
    try {
      Word2VecTask task(planted_options(path), context);
      FAIL("no error");
    } catch (const lmforge::ConfigError& e) {
      CHECK_THAT(e.what(), Catch::Contains("cannot be split across 2 processes") &&
                               Catch::Contains("threads"));
    }
  }
  SECTION("a backbone that is not word2vec's") {
    Word2VecTask task(planted_options(path), task_context(dir.path));
    task.prepare(tok, true);
    lmforge::LstmOptions lstm;
    lstm.embedding_dim = lstm.hidden_size = 8;
    lstm.layers = 1;
    lmforge::BackboneContext context;
    context.vocab_size = task.num_outputs();
    auto backbone = std::make_shared<lmforge::LstmBackbone>(lstm, context);
    auto head = std::make_shared<NegativeSamplingHead>(lmforge::NegativeSamplingOptions{},
                                                       head_context(8, task.num_outputs()));
    lmforge::Model model(backbone, head);
    task.start_epoch(0);
    CHECK_THROWS_WITH(task.train_step(model, 0), Catch::Contains("cbow or skipgram"));
  }
  SECTION("an empty file") {
    Word2VecTask task(planted_options(dir.file("empty.txt", "")), task_context(dir.path));
    CHECK_THROWS_AS(task.prepare(tok, true), lmforge::DataError);
  }
  SECTION("no word reaches min_count") {
    auto strict = tokenizer(1000000);
    Word2VecTask task(planted_options(path), task_context(dir.path));
    CHECK_THROWS_WITH(task.prepare(strict, true), Catch::Contains("min_count"));
  }
  SECTION("a missing evaluation file") {
    auto options = planted_options(path);
    options.analogy = (dir.path / "nope.txt").string();
    Word2VecTask task(options, task_context(dir.path));
    CHECK_THROWS_AS(task.prepare(tok, true), lmforge::DataError);
  }
  SECTION("more trainer epochs than the learning rate decays over") {
    Word2VecTask task(planted_options(path), task_context(dir.path));
    task.prepare(tok, true);
    CHECK_THROWS_AS(task.start_epoch(2), lmforge::ConfigError);
  }
}

TEST_CASE("evaluation reports analogy accuracy and similarity correlation", "[word2vec]") {
  TempDir dir;
  const std::string path = dir.file("planted.txt", planted_corpus(15000, 6));
  auto options = planted_options(path);
  // Pairs of slots: a_i : b_i :: a_j : b_j holds only by chance, so accuracy is merely defined.
  options.analogy = dir.file("analogy.txt", ": planted\na1 b1 a2 b2\na3 b3 a4 b4\nzz b1 a2 b2\n");
  options.similarity = {dir.file("sim.tsv", "a1\tb1\t10\na1\ta2\t1\na2\tb2\t10\nb3\ta7\t1\n")};
  auto tok = tokenizer();
  Word2VecTask task(options, task_context(dir.path));
  task.prepare(tok, true);
  CHECK(task.eval_splits() == std::vector<std::string>{"valid"});
  CHECK(task.primary_metric() == "analogy_accuracy");
  lmforge::CbowOptions cbow;
  cbow.dim = 24;
  lmforge::BackboneContext context;
  context.vocab_size = task.num_outputs();
  auto backbone = std::make_shared<lmforge::CbowBackbone>(cbow, context);
  auto head = std::make_shared<NegativeSamplingHead>(lmforge::NegativeSamplingOptions{},
                                                     head_context(24, task.num_outputs()));
  lmforge::Model model(backbone, head);
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) task.train_step(model, step);
  }
  auto metrics = task.evaluate(model, "valid");
  CHECK(metrics.at("analogy_total") == 2);
  CHECK((metrics.at("analogy_accuracy") >= 0 && metrics.at("analogy_accuracy") <= 1));
  // Pairs that share contexts are rated similar, the others not; ranks within each group are
  // arbitrary, which caps the correlation at 0.89.
  CHECK(metrics.at("spearman.sim") > 0.8);
}

namespace {

// The shared-noise block step of negative sampling recomputed pair by pair in double precision,
// from the rows as they were before the step: every row m scores its own target (label 1) and
// each of the block's noise words (label 0, skipped where it equals the row's target), with
// word2vec.c's saturation rule and the head's tabulated sigmoid. Noise words come in draws of
// 16: a later draw sees the output rows as the earlier ones left them.
struct BlockReference {
  std::vector<std::vector<double>> hidden_update;  // [count][dim]
  std::vector<double> weight;                      // [V * dim] after the step
  double loss = 0;
};

BlockReference block_reference(const std::vector<std::vector<float>>& hidden,
                               const std::vector<std::int64_t>& targets,
                               const std::vector<std::int64_t>& noise, const torch::Tensor& weight,
                               float lr) {
  const lmforge::word2vec::SigmoidTable sigmoid;
  const std::int64_t dim = weight.size(1);
  const float* w = weight.data_ptr<float>();
  BlockReference ref;
  ref.weight.assign(w, w + weight.numel());
  ref.hidden_update.assign(hidden.size(), std::vector<double>(static_cast<std::size_t>(dim), 0.0));
  for (std::size_t from = 0; from < noise.size(); from += 16) {
    const std::vector<double> at_entry = ref.weight;  // this draw's rows
    for (std::size_t m = 0; m < hidden.size(); ++m) {
      std::vector<std::pair<std::int64_t, float>> pairs;
      if (from == 0) pairs.emplace_back(targets[m], 1.0f);
      for (std::size_t k = from; k < std::min(noise.size(), from + 16); ++k) {
        if (noise[k] != targets[m]) pairs.emplace_back(noise[k], 0.0f);
      }
      for (const auto& [word, label] : pairs) {
        const double* out = at_entry.data() + word * dim;
        double f = 0;
        for (std::int64_t i = 0; i < dim; ++i) f += static_cast<double>(hidden[m][i]) * out[i];
        const auto score = static_cast<float>(f);
        double g = score >= lmforge::word2vec::kMaxScore    ? label - 1.0
                   : score <= -lmforge::word2vec::kMaxScore ? label
                                                            : label - sigmoid.sigmoid(score);
        ref.loss += sigmoid.nll(label > 0 ? score : -score);
        g *= lr;
        for (std::int64_t i = 0; i < dim; ++i) {
          ref.hidden_update[m][static_cast<std::size_t>(i)] += g * out[i];
          ref.weight[static_cast<std::size_t>(word * dim + i)] += g * hidden[m][i];
        }
      }
    }
  }
  return ref;
}

}  // namespace

TEST_CASE("negative sampling's shared-noise block step equals the pairs computed one by one",
          "[word2vec]") {
  const std::int64_t dim = 100, vocab = 12;
  // Word 4 dominates the noise distribution, so it is drawn as noise for rows whose target it is.
  const std::vector<std::int64_t> counts = {0, 0, 0, 0, 100000, 300, 50, 7, 1, 40, 20, 5};
  const float lr = 0.05f;
  struct Case {
    const char* name;
    std::vector<std::int64_t> targets;
    std::int64_t negative;
  };
  const Case cases[] = {
      {"a skip-gram window: six context rows, one centre word", {5, 5, 5, 5, 5, 5}, 5},
      {"the same centre word as the dominant noise word", {4, 4, 4}, 5},
      {"CBOW positions: distinct targets, one repeated, one the noise word", {6, 4, 7, 6}, 5},
      {"more noise words than one draw of 16", {9, 10}, 20},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      NegativeSamplingHead::Options options;
      options.negative = c.negative;
      NegativeSamplingHead head(options, head_context(dim, vocab));
      head.prepare(counts);
      torch::manual_seed(11);
      {
        torch::NoGradGuard no_grad;
        head.weight().copy_(torch::randn({vocab, dim}) * 0.2);
      }
      const torch::Tensor before = head.weight().detach().clone();
      std::vector<std::vector<float>> hidden;
      std::vector<const float*> pointers;
      for (std::size_t m = 0; m < c.targets.size(); ++m) {
        torch::Tensor h = torch::randn({dim}) * 0.2;
        if (m == 1) h = h * 30;  // scores beyond +-6: the saturated rule
        hidden.emplace_back(h.data_ptr<float>(), h.data_ptr<float>() + dim);
      }
      for (const auto& h : hidden) pointers.push_back(h.data());
      const auto count = static_cast<std::int64_t>(c.targets.size());
      std::vector<float> update(static_cast<std::size_t>(count * dim), 0.0f);

      // The step draws `negative` noise words, in order, from the generator it is given.
      Word2VecRng rng(5), replay(5);
      std::vector<std::int64_t> noise;
      for (std::int64_t k = 0; k < c.negative; ++k) noise.push_back(head.sample(replay));
      const float loss =
          head.update_block(pointers.data(), c.targets.data(), count, dim, lr, update.data(), rng);
      CHECK(rng.next() == replay.next());

      const BlockReference ref = block_reference(hidden, c.targets, noise, before, lr);
      CHECK(loss == Approx(ref.loss).epsilon(1e-5));
      double worst = 0;
      for (std::int64_t m = 0; m < count; ++m) {
        for (std::int64_t i = 0; i < dim; ++i) {
          const double expected = ref.hidden_update[m][static_cast<std::size_t>(i)];
          worst =
              std::max(worst, std::abs(update[static_cast<std::size_t>(m * dim + i)] - expected) /
                                  std::max(1.0, std::abs(expected)));
        }
      }
      const float* after = head.weight().data_ptr<float>();
      std::int64_t moved = 0;
      for (std::int64_t i = 0; i < vocab * dim; ++i) {
        const double expected = ref.weight[static_cast<std::size_t>(i)];
        worst = std::max(worst, std::abs(after[i] - expected) / std::max(1.0, std::abs(expected)));
        moved += after[i] != before.data_ptr<float>()[i];
      }
      // To float rounding: 1e-6 absolute, relative where a value exceeds 1.
      CHECK(worst < 1e-6);
      CHECK(moved > 0);
    }
  }
}

TEST_CASE("a block of one is word2vec.c's per-pair step", "[word2vec]") {
  const std::int64_t dim = 100, vocab = 12;
  const std::vector<std::int64_t> counts = {0, 0, 0, 0, 100, 300, 50, 7, 1, 40, 20, 5};
  NegativeSamplingHead a(NegativeSamplingHead::Options{}, head_context(dim, vocab));
  NegativeSamplingHead b(NegativeSamplingHead::Options{}, head_context(dim, vocab));
  a.prepare(counts);
  b.prepare(counts);
  torch::manual_seed(2);
  {
    torch::NoGradGuard no_grad;
    a.weight().copy_(torch::randn({vocab, dim}) * 0.3);
    b.weight().copy_(a.weight());
  }
  torch::Tensor h = torch::randn({dim}) * 0.3;
  const float* pointer = h.data_ptr<float>();
  const std::int64_t target = 6;
  // A seed whose noise words are distinct (word2vec.c's step sees a repeated noise word's row
  // after its first update, the block step before).
  std::uint64_t seed = 0;
  for (;; ++seed) {
    Word2VecRng replay(seed);
    std::set<std::int64_t> drawn;
    for (int k = 0; k < 5; ++k) drawn.insert(a.sample(replay));
    if (drawn.size() == 5) break;
  }
  std::vector<float> ua(dim, 0.0f), ub(dim, 0.0f);
  Word2VecRng ra(seed), rb(seed);
  const float la = a.update(pointer, target, 0.05f, ua.data(), ra);
  const float lb = b.update_block(&pointer, &target, 1, dim, 0.05f, ub.data(), rb);
  CHECK(la == Approx(lb).epsilon(1e-5));
  for (std::int64_t i = 0; i < dim; ++i) CHECK(ua[i] == Approx(ub[i]).margin(1e-6));
  CHECK(torch::allclose(a.weight(), b.weight(), 0, 1e-6));
}
