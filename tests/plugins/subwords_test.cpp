// fastText's subword vectors as an option of the word2vec backbones: n-gram extraction and
// hashing against hand-computed cases, composition, the fused updates reaching every n-gram row,
// training that gives an unseen word a meaningful vector, bad options refused at their place, and
// `lmforge embed` answering for words outside the vocabulary.
#include "lmforge/subwords.h"

#include <sys/wait.h>
#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "heads/negative_sampling/negative_sampling.h"
#include "lmforge/model.h"
#include "lmforge/word_vector_table.h"
#include "models/cbow/cbow.h"
#include "models/skipgram/skipgram.h"
#include "support/temp_dir.h"
#include "tasks/word2vec/word2vec_task.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::subwords::character_ngrams;
using lmforge::subwords::fnv1a;
using lmforge::subwords::ngram_buckets;
using lmforge::test::TempDir;
using Strings = std::vector<std::string>;

namespace {

lmforge::WordTokenizer tokenizer() {
  lmforge::WordTokenizerOptions options;
  options.lowercase = true;
  options.vocab.min_count = 1;
  return lmforge::WordTokenizer(options, lmforge::NoContext{});
}

lmforge::WordVectorTableOptions subword_options(std::int64_t dim, std::int64_t min_n,
                                                std::int64_t max_n, std::int64_t buckets) {
  lmforge::WordVectorTableOptions options;
  options.dim = dim;
  options.subwords = true;
  options.min_n = min_n;
  options.max_n = max_n;
  options.buckets = buckets;
  return options;
}

lmforge::HeadContext head_context(std::int64_t dim, std::int64_t vocab) {
  lmforge::HeadContext context;
  context.input_size = dim;
  context.num_outputs = vocab;
  return context;
}

// stdout and stderr of a command, with its exit status.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, ""};
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.dot(b) / (a.norm() * b.norm()).clamp_min(1e-12)).item<double>();
}

}  // namespace

TEST_CASE("subwords: FNV-1a matches the published test vectors and hand-computed values",
          "[subwords]") {
  // The FNV authors' vectors for the 32-bit FNV-1a.
  CHECK(fnv1a("") == 0x811c9dc5u);
  CHECK(fnv1a("a") == 0xe40c292cu);
  CHECK(fnv1a("foobar") == 0xbf9cf968u);
  // Computed by hand outside lmforge (a five-line Python loop over the UTF-8 bytes): fixed
  // numbers, so a change of hash, byte order or sign handling shows here.
  CHECK(fnv1a("<wh") == 1048167652u);
  CHECK(fnv1a("ere>") == 2257568469u);
  CHECK(fnv1a("<한") == 3777649707u);
  CHECK(fnv1a("한국어") == 18907935u);
  CHECK(fnv1a("국어>") == 3864850063u);
}

TEST_CASE("subwords: character n-grams as fastText forms them", "[subwords]") {
  // fastText's own example word, n from 3 to 4: boundary markers included, by start then length.
  CHECK(character_ngrams("where", 3, 4) ==
        Strings{"<wh", "<whe", "whe", "wher", "her", "here", "ere", "ere>", "re>"});
  // n = 1 keeps the letters but never a lone '<' or '>'.
  CHECK(character_ngrams("ab", 1, 2) == Strings{"<a", "a", "ab", "b", "b>"});
  // The whole bracketed word counts when it is short enough; nothing when min_n is too long.
  CHECK(character_ngrams("a", 3, 6) == Strings{"<a>"});
  CHECK(character_ngrams("a", 4, 6).empty());
  // Repeats stay, as in fastText: each occurrence adds its row.
  CHECK(character_ngrams("aaaa", 2, 2) == Strings{"<a", "aa", "aa", "aa", "a>"});
  // Korean: n counts syllables (three UTF-8 bytes each), never part of one.
  CHECK(character_ngrams("한국어", 2, 3) ==
        Strings{"<한", "<한국", "한국", "한국어", "국어", "국어>", "어>"});
  CHECK(character_ngrams("서울에서", 5, 6) == Strings{"<서울에서", "<서울에서>", "서울에서>"});
  // Mixed scripts and a two-byte letter.
  CHECK(character_ngrams("é1", 2, 2) == Strings{"<é", "é1", "1>"});
}

TEST_CASE("subwords: buckets are the hashes of the n-grams, modulo the table size", "[subwords]") {
  for (const std::string word : {"where", "한국어", "서울에서", "x"}) {
    for (const std::int64_t buckets : {1000, 2000000}) {
      std::vector<std::int32_t> rows;
      ngram_buckets(word, 2, 5, buckets, rows);
      const Strings ngrams = character_ngrams(word, 2, 5);
      REQUIRE(rows.size() == ngrams.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(rows[i] == static_cast<std::int32_t>(fnv1a(ngrams[i]) % buckets));
      }
    }
  }
  std::vector<std::int32_t> rows;
  ngram_buckets("where", 3, 4, 1000, rows);
  CHECK(rows.front() == 652);  // fnv1a("<wh") % 1000
  CHECK(rows[7] == 469);       // fnv1a("ere>") % 1000
}

TEST_CASE("subwords: a word's vector is the mean of its row and its n-gram rows", "[subwords]") {
  auto tok = tokenizer();
  tok.count("where here 한국어");
  tok.build_vocabulary();
  const lmforge::Vocabulary& vocabulary = tok.vocabulary();
  lmforge::SkipGramBackbone backbone(subword_options(8, 3, 4, 1000),
                                     {vocabulary.size(), lmforge::Vocabulary::kPad});
  REQUIRE(backbone.has_subwords());
  backbone.prepare(vocabulary);
  torch::NoGradGuard no_grad;
  const torch::Tensor ngrams = backbone.named_parameters()["ngrams"];
  REQUIRE(ngrams.sizes() == torch::IntArrayRef({1000, 8}));
  auto rows_of = [](const std::string& word) {
    std::vector<std::int32_t> rows;
    ngram_buckets(word, 3, 4, 1000, rows);
    return std::vector<std::int64_t>(rows.begin(), rows.end());
  };

  const std::int64_t id = vocabulary.id("where");
  const auto where_rows = rows_of("where");
  torch::Tensor expected =
      (backbone.input_embedding()[id] +
       ngrams.index_select(0, torch::tensor(where_rows, torch::kLong)).sum(0)) /
      static_cast<double>(1 + where_rows.size());
  CHECK(torch::allclose(backbone.word_table()[id], expected, 1e-6, 1e-7));
  CHECK(torch::allclose(backbone.word_vector(vocabulary, "where"), expected, 1e-6, 1e-7));
  // The autograd forward sees the same vectors.
  torch::Tensor features = backbone.forward({torch::tensor({{id}}), {}, {}}).sequence;
  CHECK(torch::allclose(features.view({-1}), expected, 1e-6, 1e-7));

  // An unseen word: the mean of its n-gram rows alone; none when it is too short.
  const auto there_rows = rows_of("there");
  torch::Tensor there = backbone.word_vector(vocabulary, "there");
  REQUIRE(there.defined());
  CHECK(torch::allclose(
      there, ngrams.index_select(0, torch::tensor(there_rows, torch::kLong)).mean(0), 1e-6, 1e-7));
  CHECK(there.abs().sum().item<double>() > 0);
  CHECK_FALSE(backbone.word_vector(vocabulary, "").defined());

  // Without subwords an unseen word has no vector, and nothing else changes.
  lmforge::WordVectorTableOptions plain;
  plain.dim = 8;
  lmforge::SkipGramBackbone words_only(plain, {vocabulary.size(), lmforge::Vocabulary::kPad});
  CHECK_FALSE(words_only.has_subwords());
  CHECK(words_only.named_parameters().size() == 1);
  CHECK_FALSE(words_only.word_vector(vocabulary, "there").defined());
  CHECK(torch::equal(words_only.word_table(), words_only.input_embedding()));
}

TEST_CASE("subwords: every fused update reaches every n-gram row of the words it trains",
          "[subwords]") {
  auto tok = tokenizer();
  tok.count("walking talked");
  tok.build_vocabulary();
  const lmforge::Vocabulary& vocabulary = tok.vocabulary();
  const std::int64_t dim = 8;
  for (const bool cbow : {false, true}) {
    CAPTURE(cbow);
    torch::manual_seed(5);
    std::shared_ptr<lmforge::WordVectorTable> backbone;
    if (cbow) {
      backbone = std::make_shared<lmforge::CbowBackbone>(
          subword_options(dim, 3, 5, 5000), lmforge::BackboneContext{vocabulary.size(), 0});
    } else {
      backbone = std::make_shared<lmforge::SkipGramBackbone>(
          subword_options(dim, 3, 5, 5000), lmforge::BackboneContext{vocabulary.size(), 0});
    }
    backbone->prepare(vocabulary);
    lmforge::NegativeSamplingHead head(lmforge::NegativeSamplingOptions{},
                                       head_context(dim, vocabulary.size()));
    std::vector<std::int64_t> counts(static_cast<std::size_t>(vocabulary.size()), 0);
    for (std::int64_t id = 4; id < vocabulary.size(); ++id) counts[id] = 10;
    head.prepare(counts);
    torch::NoGradGuard no_grad;
    head.weight().copy_(torch::randn_like(head.weight()));  // zero output rows give no gradient

    torch::Tensor ngrams = backbone->named_parameters()["ngrams"];
    const torch::Tensor ngrams_before = ngrams.clone();
    const torch::Tensor words_before = backbone->input_embedding().clone();
    const std::int64_t walking = vocabulary.id("walking"), talked = vocabulary.id("talked");
    const std::vector<std::int32_t> sentence{static_cast<std::int32_t>(walking),
                                             static_cast<std::int32_t>(talked)};
    std::vector<float> hidden(dim), update(dim);
    const lmforge::Word2VecRows rows{
        backbone->input_embedding().data_ptr<float>(), dim, 1, &head, hidden.data(), update.data()};
    lmforge::Word2VecRng rng(3);
    lmforge::Word2VecLoss loss;
    backbone->train_sentence(rows, {sentence.data(), 2, 0.5f}, rng, loss);
    CHECK(loss.updates == 2);

    // Every row a word owns moved, and by the same vector as the word's own row (the word's
    // vector, their mean, moves by that vector). Rows both words own ("alk") take both updates;
    // rows of no word stay.
    std::map<std::int32_t, int> owners;
    std::map<std::string, std::vector<std::int32_t>> buckets;
    for (const std::string word : {"walking", "talked"}) {
      ngram_buckets(word, 3, 5, 5000, buckets[word]);
      for (const std::int32_t row : buckets[word]) ++owners[row];
    }
    CHECK(buckets["walking"].size() == 18);  // "<walking>": 7 + 6 + 5 n-grams of 3, 4, 5
    CHECK(buckets["talked"].size() == 15);   // "<talked>": 6 + 5 + 4
    torch::Tensor touched = torch::zeros({5000}, torch::kBool);
    int checked = 0;
    for (const auto& [word, rows_of_word] : buckets) {
      const std::int64_t id = vocabulary.id(word);
      const torch::Tensor own = backbone->input_embedding()[id] - words_before[id];
      CHECK(own.abs().max().item<double>() > 1e-4);
      for (const std::int32_t row : rows_of_word) {
        touched[row] = true;
        if (owners[row] != 1) continue;
        CHECK(torch::allclose(ngrams[row] - ngrams_before[row], own, 1e-5, 1e-6));
        ++checked;
      }
    }
    CHECK(checked >= 25);
    const torch::Tensor untouched = (ngrams - ngrams_before).abs().sum(1).masked_select(~touched);
    CHECK(untouched.max().item<double>() == 0.0);
  }
}

namespace {

// Twenty slots; sentences are random walks over them as in word2vec_test. Slot s holds two words
// that share every context: ROOT_s + "ed" and an unrelated spelling OTHER_s. "ROOT_s" + "ing" is
// never seen; it shares n-grams only with ROOT_s + "ed", whose rows learn slot s's meaning, so a
// subword model should place it next to OTHER_s, with which it shares no letters' n-grams.
struct Planted {
  std::string text;
  Strings roots, others;
};

Planted planted(int sentences, unsigned seed) {
  std::mt19937 gen(seed);
  auto random_word = [&](int letters) {
    std::string word;
    for (int i = 0; i < letters; ++i) word += static_cast<char>('a' + gen() % 26);
    return word;
  };
  Planted p;
  const int slots = 20;
  for (int s = 0; s < slots; ++s) {
    p.roots.push_back(random_word(4));
    p.others.push_back(random_word(6) + "q");  // 'q' ends no root + "ed"
  }
  for (int n = 0; n < sentences; ++n) {
    int slot = static_cast<int>(gen() % slots);
    for (int i = 0; i < 12; ++i) {
      const auto s = static_cast<std::size_t>(slot);
      p.text += (gen() % 2 ? p.roots[s] + "ed" : p.others[s]) + (i == 11 ? "\n" : " ");
      slot = (slot + (gen() % 2 ? 1 : 7)) % slots;
    }
  }
  return p;
}

}  // namespace

TEST_CASE("subwords: after training, an unseen word sits beside the seen words it means",
          "[subwords]") {
  TempDir dir;
  const Planted p = planted(15000, 11);
  lmforge::Word2VecTaskOptions options;
  options.train = dir.file("planted.txt", p.text);
  options.window = 2;
  options.sample = 0;
  options.words_per_step = 20000;
  options.threads = 2;
  options.epochs = 2;
  auto tok = tokenizer();
  lmforge::TaskContext context;
  context.place = "test task";
  context.stage_dir = dir.path.string();
  context.seed = 1;
  lmforge::Word2VecTask task(options, context);
  task.prepare(tok, true);
  const lmforge::Vocabulary& vocabulary = tok.vocabulary();
  torch::manual_seed(2);
  auto backbone = std::make_shared<lmforge::SkipGramBackbone>(
      subword_options(24, 3, 5, 20000), lmforge::BackboneContext{vocabulary.size(), 0});
  auto head = std::make_shared<lmforge::NegativeSamplingHead>(lmforge::NegativeSamplingOptions{},
                                                              head_context(24, task.num_outputs()));
  lmforge::Model model(backbone, head);

  // How many unseen ROOT+"ing" words have their slot's OTHER word as nearest, among all the
  // vocabulary's words that share none of their n-grams (the ROOT+"ed" words left out).
  auto found = [&] {
    torch::NoGradGuard no_grad;
    backbone->prepare(vocabulary);
    const torch::Tensor table = lmforge::vocabulary_vectors(*backbone, vocabulary);
    int hits = 0;
    for (std::size_t s = 0; s < p.roots.size(); ++s) {
      const torch::Tensor unseen = backbone->word_vector(vocabulary, p.roots[s] + "ing");
      REQUIRE(unseen.defined());
      double best = -2;
      std::string nearest;
      for (const std::string& other : p.others) {
        const double score = cosine(unseen, table[vocabulary.id(other)]);
        if (score > best) best = score, nearest = other;
      }
      hits += nearest == p.others[s];
    }
    return hits;
  };
  const int before = found();
  for (std::int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    task.start_epoch(epoch);
    for (std::int64_t step = 0; step < task.steps_per_epoch(); ++step) task.train_step(model, step);
  }
  const int after = found();
  INFO("unseen words beside their meaning: " << before << " of 20 before, " << after << " after");
  CHECK(before <= 5);
  CHECK(after >= 17);
  CHECK_FALSE(vocabulary.contains(p.roots[0] + "ing"));
}

TEST_CASE("subwords: bad n-gram options are refused at their place in the recipe",
          "[subwords][cli]") {
  TempDir dir;
  const std::string train = dir.file("train.txt", "a b c\n");
  const std::string recipe = dir.file("bad.yaml",
                                      "name: bad\n"
                                      "stages:\n"
                                      "  - name: w2v\n"
                                      "    task: {type: word2vec, train: " +
                                          train +
                                          "}\n"
                                          "    backbone: {type: cbow, subwords: true, "
                                          "min_n: 5, max_n: 3, buckets: 0}\n"
                                          "    head: {type: negative_sampling}\n");
  auto [status, output] = run_command(std::string(LMFORGE_CLI) + " validate " + recipe);
  INFO(output);
  CHECK(status == 2);
  CHECK(output.find(recipe +
                    ":5:61: option 'stages.w2v.backbone.max_n' must be between 5 and 32, got 3") !=
        std::string::npos);
  CHECK(output.find(recipe +
                    ":5:73: option 'stages.w2v.backbone.buckets' must be greater than 0, got 0") !=
        std::string::npos);
  CHECK(output.find("lmforge: 2 errors") != std::string::npos);
}

TEST_CASE("subwords: lmforge embed answers for words outside the vocabulary, Korean included",
          "[subwords][cli]") {
  TempDir dir;
  std::string corpus;
  for (int i = 0; i < 60; ++i) {
    corpus += "서울에 사람이 많다\n서울은 한국의 수도 이다\n도쿄는 일본의 수도 이다\n";
    corpus += "the walker walked and walks home\nthe talker talked and talks\n";
  }
  const std::string train = dir.file("train.txt", corpus);
  const std::string recipe =
      dir.file("tiny.yaml",
               "name: tiny\nseed: 1\nthreads: 1\nstages:\n  - name: w2v\n"
               "    task: {type: word2vec, train: " +
                   train +
                   ", window: 2, sample: 0, epochs: 2}\n"
                   "    tokenizer: {type: word, lowercase: true}\n"
                   "    backbone: {type: cbow, dim: 16, subwords: true, min_n: 2, max_n: 4, "
                   "buckets: 5000}\n"
                   "    head: {type: negative_sampling}\n"
                   "    train: {epochs: 2}\n");
  const std::string cli = LMFORGE_CLI;
  auto [trained, log] = run_command(cli + " run " + recipe + " --out " + dir.str("runs"));
  INFO(log);
  REQUIRE(trained == 0);
  const std::string embed = cli + " embed " + dir.str("runs/tiny") + " ";

  // "서울에서" (an eojeol never seen) and "Walking" (lowercased to an unseen word).
  auto [status, output] = run_command(embed + "nearest 서울에서 -k 3");
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("nearest to '서울에서' (cosine similarity):") != std::string::npos);
  CHECK(output.find("  서울") != std::string::npos);  // 서울에 or 서울은 among the nearest
  std::tie(status, output) = run_command(embed + "similarity Walking walked");
  CHECK(status == 0);
  CHECK(output.find("cosine similarity of 'walking' and 'walked': ") != std::string::npos);
  std::tie(status, output) = run_command(embed + "analogy walked walker talking -k 2");
  CHECK(status == 0);
  CHECK(output.find("'walked' is to 'walker' as 'talking' is to") != std::string::npos);
  // The vocabulary's words export as their composed vectors, in word2vec's text format.
  const std::string exported = dir.str("tiny.vec");
  std::tie(status, output) = run_command(embed + "export --output " + exported);
  CHECK(status == 0);
  lmforge::WordVectors loaded = lmforge::WordVectors::load_word2vec(exported, false);
  CHECK(loaded.vocabulary().contains("서울은"));
  CHECK(loaded.vectors().size(1) == 16);
}
