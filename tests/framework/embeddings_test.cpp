// Word vectors: queries on planted geometry, k-means, word2vec files (and gensim reading them),
// the analogy and similarity evaluations with gensim's semantics, and `lmforge embed`.
#include "lmforge/embeddings.h"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "embed/embed_internal.h"
#include "lmforge/error.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmforge::Vocabulary;
using lmforge::WordVectors;
using Strings = std::vector<std::string>;

namespace {

using lmforge::test::TempDir;

using Planted = std::vector<std::pair<std::string, std::vector<float>>>;

// Words get ids in the given order, i.e. the first word is the most frequent.
WordVectors make_vectors(const Planted& words) {
  Vocabulary vocabulary;
  const auto dim = static_cast<std::int64_t>(words.front().second.size());
  torch::Tensor table = torch::zeros({Vocabulary::kEos + 1 + std::int64_t(words.size()), dim});
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::int64_t id = vocabulary.add(words[i].first);
    vocabulary.set_count(id, 1000 - std::int64_t(i));
    table[id] = torch::tensor(words[i].second);
  }
  return WordVectors(vocabulary, table);
}

// Axes: 0 royal, 1 male, 2 female, 3 fruit, 4 vehicle, 5 Korea, 6 capital city, 7 Japan.
WordVectors planted() {
  return make_vectors({
      {"king", {1, 1, 0, 0, 0, 0, 0, 0}},
      {"queen", {1, 0, 1, 0, 0, 0, 0, 0}},
      {"man", {0, 1, 0, 0.1f, 0, 0, 0, 0}},
      {"woman", {0, 0, 1, 0.1f, 0, 0, 0, 0}},
      // Same direction as king but far away: first by cosine, last by L2.
      {"emperor", {5, 5, 0, 0, 0, 0, 0, 0}},
      // Close to king in space, at a slightly wider angle than emperor.
      {"prince", {0.9f, 1, 0.3f, 0, 0, 0, 0, 0}},
      {"apple", {0, 0, 0, 1, 0.1f, 0, 0, 0}},
      {"banana", {0, 0, 0, 1, 0.2f, 0, 0, 0}},
      {"car", {0, 0, 0, 0.1f, 1, 0, 0, 0}},
      {"truck", {0, 0, 0, 0.2f, 1, 0, 0, 0}},
      {"한국", {0, 0, 0, 0, 0, 1, 0, 0}},
      {"서울", {0, 0, 0, 0, 0, 1, 1, 0}},
      {"일본", {0, 0, 0, 0, 0, 0, 0, 1}},
      {"도쿄", {0, 0, 0, 0, 0, 0, 1, 1}},
  });
}

Strings words_of(const std::vector<lmforge::Neighbour>& neighbours) {
  Strings out;
  for (const auto& n : neighbours) out.push_back(n.word);
  return out;
}

std::string config_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const lmforge::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string data_error_place(const std::function<void()>& f) {
  try {
    f();
  } catch (const lmforge::DataError& e) {
    return e.place();
  }
  return "";
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// stdout of a command (stderr is left alone), with its exit status.
std::pair<int, std::string> run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, ""};
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// Bitwise comparison of the word rows of two tables whose words appear in the same order.
bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() &&
         std::memcmp(a.contiguous().data_ptr<float>(), b.contiguous().data_ptr<float>(),
                     sizeof(float) * std::size_t(a.numel())) == 0;
}

std::string data_dir() {
  const char* env = std::getenv("LMFORGE_DATA");
  return env ? env : std::string(LMFORGE_SOURCE_DIR) + "/../shared/data";
}

}  // namespace

TEST_CASE("embeddings: nearest neighbours by cosine and by L2", "[embed]") {
  WordVectors vectors = planted();
  auto cosine = vectors.nearest("king", 3);
  REQUIRE(words_of(cosine) == Strings{"emperor", "prince", "man"});
  CHECK(cosine[0].score == Approx(1.0));
  CHECK(cosine[1].score > cosine[2].score);
  CHECK(cosine[2].score == Approx(1 / std::sqrt(2.0 * 1.01)).epsilon(1e-5));

  auto l2 = vectors.nearest("king", 3, "l2");
  REQUIRE(words_of(l2) == Strings{"prince", "man", "queen"});
  CHECK(l2[0].score == Approx(-std::sqrt(0.01 + 0.09)).epsilon(1e-4));  // negative distance
  auto all = vectors.nearest("king", 100, "l2");
  CHECK(all.size() == 13);  // every word but king itself; no specials
  CHECK(all.back().word == "emperor");

  CHECK(vectors.similarity("king", "queen") == Approx(0.5));
  CHECK(vectors.similarity("apple", "apple") == Approx(1.0));
  CHECK(config_error_message([&] {
          vectors.nearest("king", 3, "cosin");
        }).find("did you mean 'cosine'") != std::string::npos);
  CHECK(config_error_message([&] { vectors.nearest("king", 0); }) != "");
}

TEST_CASE("embeddings: analogies exclude the question words (3CosAdd)", "[embed]") {
  WordVectors vectors = planted();
  auto answers = vectors.analogy("man", "king", "woman", 3);
  REQUIRE(answers.size() == 3);
  CHECK(answers[0].word == "queen");
  CHECK(answers[0].score > 0.9);  // a cosine: the target is normalised
  for (const auto& a : answers) {
    CHECK(a.word != "man");
    CHECK(a.word != "king");
    CHECK(a.word != "woman");
  }
  // gensim: most_similar(positive=[king, woman], negative=[man]); with a = b the answer is c's
  // nearest neighbour other than a and c.
  CHECK(vectors.analogy("king", "king", "apple", 1)[0].word == "banana");
}

TEST_CASE("embeddings: Korean words are looked up as UTF-8", "[embed][utf8]") {
  WordVectors vectors = planted();
  CHECK(vectors.analogy("한국", "서울", "일본", 1)[0].word == "도쿄");
  CHECK(vectors.nearest("서울", 1)[0].word == "한국");
  std::string message = config_error_message([&] { vectors.nearest("서울시", 1); });
  CHECK(message.find("word '서울시' is not in the vocabulary") != std::string::npos);
  CHECK(message.find("did you mean '서울'") != std::string::npos);
}

TEST_CASE("embeddings: unknown words and specials are refused with a suggestion", "[embed]") {
  WordVectors vectors = planted();
  std::string message = config_error_message([&] { vectors.nearest("quen", 5); });
  CHECK(message == "embed: word 'quen' is not in the vocabulary (did you mean 'queen'?)");
  CHECK(config_error_message([&] { vectors.similarity("king", "zzzzzzzzzz"); }) ==
        "embed: word 'zzzzzzzzzz' is not in the vocabulary");
  CHECK(config_error_message([&] { vectors.nearest("<unk>", 5); }).find("special") !=
        std::string::npos);
  for (const auto& n : vectors.nearest("apple", 100)) CHECK(n.word.front() != '<');
  CHECK(config_error_message([&] {
          WordVectors(Vocabulary(), torch::zeros({3, 2}));
        }).find("rows") != std::string::npos);
}

namespace {

// Three groups of 15 words around orthogonal directions, interleaved in frequency order, plus
// optionally a word between all three.
WordVectors grouped(bool with_outlier, std::vector<int>* group_of = nullptr) {
  std::mt19937 rng(42);
  std::normal_distribution<float> noise(0.0f, 0.08f);
  Planted words;
  for (int i = 0; i < 15; ++i) {
    for (int g = 0; g < 3; ++g) {
      std::vector<float> v(8);
      for (auto& x : v) x = noise(rng);
      v[std::size_t(g)] += 1.0f;
      words.push_back({"g" + std::to_string(g) + "_" + std::to_string(i), v});
      if (group_of) group_of->push_back(g);
    }
  }
  if (with_outlier) words.push_back({"odd", {0.58f, 0.58f, 0.58f, 0, 0, 0, 0, 0}});
  return make_vectors(words);
}

}  // namespace

TEST_CASE("embeddings: k-means recovers planted clusters", "[embed][cluster]") {
  std::vector<int> group;
  WordVectors vectors = grouped(false, &group);
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    CAPTURE(seed);
    std::vector<std::int64_t> labels = vectors.cluster(3, 0, seed);
    REQUIRE(labels.size() == group.size());
    std::set<std::pair<int, std::int64_t>> pairs;
    for (std::size_t i = 0; i < labels.size(); ++i) pairs.insert({group[i], labels[i]});
    CHECK(pairs.size() == 3);  // each group maps to exactly one label...
    std::set<std::int64_t> distinct(labels.begin(), labels.end());
    CHECK(distinct.size() == 3);                   // ...and the labels differ
    CHECK(vectors.cluster(3, 0, seed) == labels);  // seeded: reproducible
  }
  CHECK(vectors.cluster(3, 9, 1).size() == 9);  // the 9 most frequent words
  CHECK(config_error_message([&] { vectors.cluster(10, 6, 1); }).find("cannot make 10 clusters") !=
        std::string::npos);
  CHECK(config_error_message([&] { vectors.cluster(0, 0, 1); }) != "");
}

TEST_CASE("embeddings: outliers put the planted odd word first", "[embed][cluster]") {
  WordVectors vectors = grouped(true);
  for (std::uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    auto outliers = vectors.outliers(3, 0, 5, seed);
    REQUIRE(outliers.size() == 5);
    CHECK(outliers[0].word == "odd");
    CHECK(outliers[0].score == Approx(1 / std::sqrt(3.0)).margin(0.05));
    CHECK(outliers[1].score > 0.9);
  }
  CHECK(vectors.outliers(1, 0, 1, 1)[0].word != "odd");  // one cluster: odd sits at the centre
}

TEST_CASE("embeddings: word2vec text and binary round-trip bit-identical", "[embed][word2vec]") {
  TempDir dir;
  Vocabulary vocabulary;
  const Strings words{"the", "서울", "naïve", "a b", " ", "x\ny", "tab\there", "<s>", "end"};
  for (const auto& w : words) vocabulary.add(w);
  torch::manual_seed(3);
  torch::Tensor table = torch::randn({vocabulary.size(), 6});
  // Values whose decimal form is easy to get wrong.
  const float awkward[] = {-0.0f, 1e-45f,   3.4028235e38f, 1.17549435e-38f,
                           0.1f,  1.0f / 3, -2.5e-7f,      16777217.0f};
  for (int i = 0; i < 8; ++i) table[4 + i / 6][i % 6] = awkward[i];
  WordVectors vectors(vocabulary, table);
  // "a b", " " and "x\ny" cannot be written: gensim splits records on ' ' and '\n'.
  const Strings kept{"the", "서울", "naïve", "tab\there", "<s>", "end"};
  auto kept_rows = [&](const WordVectors& v) {
    std::vector<torch::Tensor> rows;
    for (const auto& w : kept) rows.push_back(v.vectors()[v.vocabulary().id(w)]);
    return torch::stack(rows);
  };

  for (bool binary : {false, true}) {
    CAPTURE(binary);
    const std::string path = dir.str(binary ? "vectors.bin" : "vectors.txt");
    REQUIRE(vectors.save_word2vec(path, binary) == 6);
    WordVectors loaded = WordVectors::load_word2vec(path, binary);
    REQUIRE(loaded.vocabulary().size() == 4 + 6);
    for (std::size_t i = 0; i < kept.size(); ++i) {
      CHECK(loaded.vocabulary().token(4 + std::int64_t(i)) == kept[i]);  // file order kept
    }
    CHECK(same_bits(kept_rows(loaded), kept_rows(vectors)));
    CHECK(loaded.vocabulary().counts()[4] > loaded.vocabulary().counts()[5]);
  }

  // The binary layout, byte for byte: "V D\n", then "word " + D float32 LE + "\n".
  const std::string bytes = read_bytes(dir.str("vectors.bin"));
  std::size_t expected = std::string("6 6\n").size();
  for (const auto& w : kept) expected += w.size() + 1 + 6 * 4 + 1;
  CHECK(bytes.size() == expected);
  CHECK(bytes.compare(0, 8, "6 6\nthe ") == 0);
  float first;
  std::memcpy(&first, bytes.data() + 8, 4);
  CHECK(first == table[4][0].item<float>());
  CHECK(bytes[8 + 24] == '\n');
  const std::string text = read_bytes(dir.str("vectors.txt"));
  CHECK(text.compare(0, 10, "6 6\nthe -0") == 0);
}

TEST_CASE("embeddings: word2vec files from other tools load and bad ones are refused",
          "[embed][word2vec]") {
  TempDir dir;
  // word2vec.c text output ends each line with a space; a repeated word keeps its first vector.
  WordVectors text = WordVectors::load_word2vec(
      dir.file("c.txt", "3 2\nfoo 1 2 \nbar 3.5 -4e-1\nfoo 9 9\n"), false);
  REQUIRE(text.vocabulary().size() == 6);
  CHECK(text.vectors()[4][1].item<float>() == 2.0f);
  CHECK(text.vectors()[5][1].item<float>() == -0.4f);

  // gensim's binary writer puts no newline after each vector.
  std::string binary = "2 1\na ";
  const float one = 1.0f, two = 2.0f;
  binary.append(reinterpret_cast<const char*>(&one), 4);
  binary += "b ";
  binary.append(reinterpret_cast<const char*>(&two), 4);
  WordVectors b = WordVectors::load_word2vec(dir.file("g.bin", binary), true);
  CHECK(b.vocabulary().token(5) == "b");
  CHECK(b.vectors()[5][0].item<float>() == 2.0f);

  const std::string bad = dir.str("bad.txt");
  CHECK(data_error_place([&] {
          WordVectors::load_word2vec(dir.file("bad.txt", "hello\n"), false);
        }) == bad + ":1");
  CHECK(data_error_place([&] {
          WordVectors::load_word2vec(dir.file("bad.txt", "2 3\nfoo 1 2 3\nbar 1 2\n"), false);
        }) == bad + ":3");
  CHECK(data_error_place([&] {
          WordVectors::load_word2vec(dir.file("bad.txt", "2 3\nfoo 1 x 3\nbar 1 2 3\n"), false);
        }) == bad + ":2");
  CHECK(data_error_place([&] {
          WordVectors::load_word2vec(dir.file("bad.txt", "3 3\nfoo 1 2 3\n"), false);
        }) == bad + ":3");
  CHECK(data_error_place([&] {
          WordVectors::load_word2vec(dir.file("bad.txt", binary.substr(0, binary.size() - 2)),
                                     true);
        }).rfind(bad + ": vector 2 of 2", 0) == 0);
  CHECK(data_error_place([&] { WordVectors::load_word2vec(dir.str("missing.txt"), false); }) ==
        dir.str("missing.txt"));
}

TEST_CASE("embeddings: a header promising more than the file holds is refused before allocating",
          "[embed][word2vec]") {
  // A damaged header once sized a buffer of 4 x 4,000,000,000 floats before reading any row (the
  // input is also replayed by tools/fuzz.sh from tests/fuzz/regressions/fuzz_vector_files).
  TempDir dir;
  const std::string path = dir.file("huge.txt", "1 4000000000\nfoo 1\n");
  for (bool binary : {false, true}) {
    try {
      WordVectors::load_word2vec(path, binary);
      FAIL("a header of dimension 4000000000 in a 19-byte file was accepted");
    } catch (const lmforge::DataError& e) {
      CHECK(e.place() == path + ":1");
      CHECK_THAT(e.message(), Catch::Contains("dimension 4000000000"));
      CHECK_THAT(e.message(), Catch::Contains("19 bytes"));
    }
  }
  // A dimension the file's size allows passes the header (and then fails on the short row).
  CHECK(data_error_place([&] {
          WordVectors::load_word2vec(dir.file("wide.txt", "1 10\nfoo 1\n"), false);
        }) == dir.str("wide.txt") + ":2");
}

TEST_CASE("embeddings: Spearman uses average ranks for ties", "[embed][evaluate]") {
  using namespace lmforge::embed;
  CHECK(average_ranks({10, 20, 20, 30}) == std::vector<double>{1, 2.5, 2.5, 4});
  CHECK(average_ranks({3, 1, 2}) == std::vector<double>{3, 1, 2});
  // Reference values from scipy.stats.spearmanr.
  CHECK(spearman_correlation({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}) == Approx(0.8207826816681233));
  CHECK(spearman_correlation({1, 2, 2, 3, 4, 4}, {2, 1, 3, 3, 5, 4}) == Approx(0.8508410434878082));
  CHECK(spearman_correlation({1, 2, 3}, {30, 20, 10}) == Approx(-1));
  CHECK(std::isnan(spearman_correlation({1, 2, 3}, {5, 5, 5})));
  CHECK(std::isnan(spearman_correlation({1}, {1})));
}

namespace {

// Unit vectors at increasing angles from w0, so cos(w0, wi) falls with i.
WordVectors fan() {
  Planted words;
  for (int i = 0; i < 6; ++i) {
    const float angle = 0.3f * float(i);
    words.push_back({"w" + std::to_string(i), {std::cos(angle), std::sin(angle)}});
  }
  words.push_back({"Straße", {0.0f, 1.0f}});
  words.push_back({"한글", {1.0f, 1.0f}});
  return make_vectors(words);
}

}  // namespace

TEST_CASE("embeddings: similarity evaluation reads WordSim-353 and SimLex-999 layouts",
          "[embed][evaluate]") {
  TempDir dir;
  WordVectors vectors = fan();
  // gensim's test-data layout: '#' comments, tabs; words match case-insensitively.
  auto result = vectors.evaluate_similarity(
      dir.file("ws.tsv",
               "# comment\n# Word 1\tWord 2\tHuman (mean)\nw0\tw1\t9\nW0\tw2\t7.5\nw0\tW3\t5\n"
               "w0\tmissing\t3\nw0\tw5\t1\n"));
  CHECK(result.pairs == 4);
  CHECK(result.skipped == 1);
  CHECK(result.spearman == Approx(1.0));
  CHECK(result.coverage() == Approx(0.8));

  // The original WordSim-353 combined.csv (header, commas) and SimLex-999.txt (score in column
  // "SimLex999"); similarity here falls as the gold rises.
  result = vectors.evaluate_similarity(
      dir.file("combined.csv", "Word 1,Word 2,Human (mean)\nw0,w1,1\nw0,w2,2\nw0,w4,3\r\n"));
  CHECK(result.pairs == 3);
  CHECK(result.spearman == Approx(-1.0));
  result = vectors.evaluate_similarity(dir.file(
      "SimLex-999.txt",
      "word1\tword2\tPOS\tSimLex999\tconc(w1)\tSD(SimLex)\nw0\tw1\tN\t2\t4.5\t0.4\nw0\tw2\tN\t"
      "1\t4.5\t9\nw0\tw3\tN\t1\t4.5\t0.1\nstraße\t한글\tN\t0.5\t1\t1\n"));
  CHECK(result.pairs == 4);
  CHECK(result.spearman ==
        Approx(lmforge::embed::spearman_correlation({2, 1, 1, 0.5}, {
                                                                        std::cos(0.3),
                                                                        std::cos(0.6),
                                                                        std::cos(0.9),
                                                                        std::cos(M_PI / 4),
                                                                    })));
  // Space separated (MEN), nothing known: no correlation, no crash.
  result = vectors.evaluate_similarity(dir.file("men.txt", "sun sunlight 50\nx y 2\n"));
  CHECK(result.pairs == 0);
  CHECK(result.skipped == 2);
  CHECK(std::isnan(result.spearman));

  const std::string bad = dir.str("bad.txt");
  CHECK(data_error_place([&] {
          vectors.evaluate_similarity(dir.file("bad.txt", "w0\tw1\t1\nw0\tw2\n"));
        }) == bad + ":2");
  CHECK(data_error_place([&] {
          vectors.evaluate_similarity(dir.file("bad.txt", "w0\tw1\t1\nw0\tw2\tmuch\n"));
        }) == bad + ":2");
  CHECK(data_error_place([&] { vectors.evaluate_similarity(dir.file("bad.txt", "# only\n")); }) ==
        bad);
}

TEST_CASE("embeddings: analogy evaluation follows gensim on case variants and restrict_vocab",
          "[embed][evaluate]") {
  TempDir dir;
  // "KING" is a rare case variant of king placed exactly on queen: gensim skips a case variant of
  // a question word and takes the next answer.
  Planted words{
      {"king", {1, 1, 0, 0, 0, 0, 0, 0}},     {"queen", {1, 0, 1, 0, 0, 0, 0, 0}},
      {"man", {0, 1, 0, 0.1f, 0, 0, 0, 0}},   {"woman", {0, 0, 1, 0.1f, 0, 0, 0, 0}},
      {"KING", {1, 0, 1.01f, 0, 0, 0, 0, 0}}, {"한국", {0, 0, 0, 0, 0, 1, 0, 0}},
      {"서울", {0, 0, 0, 0, 0, 1, 1, 0}},     {"일본", {0, 0, 0, 0, 0, 0, 0, 1}},
      {"도쿄", {0, 0, 0, 0, 0, 0, 1, 1}},     {"apple", {0, 0, 0, 1, 0, 0, 0, 0}},
  };
  WordVectors vectors = make_vectors(words);
  const std::string questions = dir.file("questions.txt",
                                         ": family\n"
                                         "man king woman queen\n"
                                         "Man King Woman Queen\n"
                                         "man king woman apple\n"
                                         "man king woman zebra\n"
                                         "\n"
                                         ": capital-asia\n"
                                         "한국 서울 일본 도쿄\n"
                                         "일본 도쿄 한국 서울\n"
                                         ": empty-section\n"
                                         "zebra lion cat dog\n");
  auto all = vectors.evaluate_analogies(questions, 0);
  CHECK(all.section_order == Strings{"family", "capital-asia", "empty-section"});
  CHECK(all.sections.at("family") == std::make_pair<std::int64_t, std::int64_t>(2, 3));
  CHECK(all.sections.at("capital-asia") == std::make_pair<std::int64_t, std::int64_t>(2, 2));
  CHECK(all.sections.at("empty-section") == std::make_pair<std::int64_t, std::int64_t>(0, 0));
  CHECK(all.correct == 4);
  CHECK(all.total == 5);
  CHECK(all.skipped == 2);
  CHECK(all.accuracy() == Approx(0.8));

  // Only the 4 most frequent words (king queen man woman): the Korean and apple questions drop.
  auto top4 = vectors.evaluate_analogies(questions, 4);
  CHECK(top4.total == 2);
  CHECK(top4.correct == 2);
  CHECK(top4.skipped == 5);
  // Without queen among the 1 most frequent words nothing is answerable.
  CHECK(vectors.evaluate_analogies(questions, 1).total == 0);
  // With KING among the 5 most frequent it is the best answer, skipped as a variant of king.
  CHECK(vectors.evaluate_analogies(questions, 5).sections.at("family").first == 2);

  const std::string bad = dir.str("bad.txt");
  CHECK(data_error_place([&] {
          vectors.evaluate_analogies(dir.file("bad.txt", ": s\nman king woman\n"), 0);
        }) == bad + ":2");
  CHECK(data_error_place([&] {
          vectors.evaluate_analogies(dir.file("bad.txt", "man king woman queen\n"), 0);
        }) == bad + ":1");
  CHECK(data_error_place([&] { vectors.evaluate_analogies(dir.file("bad.txt", ""), 0); }) == bad);
  CHECK(data_error_place([&] { vectors.evaluate_analogies(dir.str("none.txt"), 0); }) ==
        dir.str("none.txt"));
}

TEST_CASE("embeddings: the shipped evaluation files parse completely", "[embed][data]") {
  const std::string folder = data_dir() + "/word-similarity";
  if (!fs::exists(folder + "/questions-words.txt")) {
    WARN("skipped: " << folder << " not found (set LMFORGE_DATA)");
    return;
  }
  // A vocabulary of every word in the files, random vectors: only the counting is checked.
  std::set<std::string> seen;
  Vocabulary vocabulary;
  for (const char* name : {"questions-words.txt", "wordsim353.tsv", "simlex999.txt"}) {
    std::ifstream in(folder + "/" + name);
    std::string token;
    while (in >> token) {
      if (token[0] != ':' && token[0] != '#' && !std::isdigit(static_cast<unsigned char>(token[0])))
        vocabulary.add(token);
    }
  }
  torch::manual_seed(1);
  WordVectors vectors(vocabulary, torch::randn({vocabulary.size(), 16}));
  auto analogies = vectors.evaluate_analogies(folder + "/questions-words.txt", 0);
  CHECK(analogies.total + analogies.skipped == 19544);
  CHECK(analogies.sections.size() == 14);
  auto wordsim = vectors.evaluate_similarity(folder + "/wordsim353.tsv");
  CHECK(wordsim.pairs + wordsim.skipped == 353);
  auto simlex = vectors.evaluate_similarity(folder + "/simlex999.txt");
  CHECK(simlex.pairs + simlex.skipped == 999);
  CHECK(simlex.skipped == 0);
}

TEST_CASE("embeddings: gensim reads the exported files and agrees on the evaluations",
          "[embed][gensim]") {
  if (run_command("/usr/bin/python3 -c 'import gensim' 2>/dev/null").first != 0) {
    WARN("skipped: /usr/bin/python3 cannot import gensim (apt-get install python3-gensim)");
    return;
  }
  TempDir dir;
  // Random vectors over a vocabulary with case variants and Korean, and random questions over
  // it: exact agreement on which questions are right is only likely if the semantics match.
  std::mt19937 rng(7);
  Vocabulary vocabulary;
  const Strings stems{"alpha", "beta", "gamma", "delta", "kappa", "omega", "sigma", "theta"};
  Strings words;
  for (int i = 0; i < 120; ++i) {
    std::string w = stems[std::size_t(i) % stems.size()] + std::to_string(i / 8);
    if (i % 17 == 5) w = "한국어" + std::to_string(i);
    words.push_back(w);
    vocabulary.add(w);
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> variants;  // (variant id, original id)
  for (std::size_t i = 0; variants.size() < 20; i += 3) {       // rarer upper-case variants
    std::string upper = words[i];
    for (auto& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (upper == words[i]) continue;  // Korean has no case
    words.push_back(upper);
    variants.push_back({vocabulary.add(upper), vocabulary.id(words[i])});
  }
  torch::manual_seed(11);
  torch::Tensor table = torch::randn({vocabulary.size(), 12});
  // Variants close to their lower-case word, so that they often come out as answers.
  for (auto [variant, original] : variants) {
    table[variant] = table[original] + 0.1 * torch::randn({12});
  }
  WordVectors vectors(vocabulary, table);

  std::ostringstream questions, pairs;
  std::uniform_int_distribution<int> pick(0, int(words.size()) - 1), pick_frequent(0, 49);
  for (int s = 0; s < 3; ++s) {
    questions << ": section-" << s << "\n";
    for (int q = 0; q < 150; ++q) {
      // Half the questions use only the 50 most frequent words (for restrict_vocab = 50); two in
      // three take the full-vocabulary 3CosAdd answer as d, so that many are answered right.
      auto& range = q % 2 ? pick : pick_frequent;
      Strings abc;
      for (int j = 0; j < 3; ++j) abc.push_back(words[std::size_t(range(rng))]);
      const std::string d = q % 3 ? vectors.analogy(abc[0], abc[1], abc[2], 1)[0].word
                                  : words[std::size_t(range(rng))];
      questions << abc[0] << " " << abc[1] << " " << abc[2] << " " << d
                << (q % 25 == 0 ? " \n" : "\n");
    }
    questions << "unknownword alpha0 beta0 gamma0\n";
  }
  // Distinct words without case variants: a pair of equal vectors scores 1 up to rounding, and
  // rounding must not decide ties between such pairs.
  std::uniform_int_distribution<int> pick_plain(0, 119);
  for (int p = 0; p < 60; ++p) {
    const int a = pick_plain(rng);
    int b = pick_plain(rng);
    if (b == a) b = (a + 1) % 120;
    pairs << words[std::size_t(a)] << "\t" << words[std::size_t(b)] << "\t" << pick(rng) % 10
          << "\n";
  }
  pairs << "unknownword\talpha0\t3\n";
  const std::string qpath = dir.file("questions.txt", questions.str());
  const std::string ppath = dir.file("pairs.tsv", pairs.str());
  const std::string text = dir.str("v.txt"), binary = dir.str("v.bin");
  REQUIRE(vectors.save_word2vec(text, false) == 140);
  REQUIRE(vectors.save_word2vec(binary, true) == 140);

  const std::string script =
      "import sys, struct\n"
      "from gensim.models import KeyedVectors\n"
      "t = KeyedVectors.load_word2vec_format(sys.argv[1], binary=False)\n"
      "b = KeyedVectors.load_word2vec_format(sys.argv[2], binary=True)\n"
      "print(len(t), len(b), t.vector_size, b.vector_size)\n"
      "w = t.index_to_key[5]\n"
      "print(w, struct.pack('<f', t[w][3]).hex(), struct.pack('<f', b[w][3]).hex())\n"
      "print(int(all((t.vectors == b.vectors).ravel())), int(t.index_to_key == b.index_to_key))\n"
      "for r in (0, 50):\n"
      "    score, sections = b.evaluate_word_analogies(sys.argv[3], restrict_vocab=r or 300000)\n"
      "    print(' '.join(str(len(s['correct'])) + '/' + str(len(s['correct']) + "
      "len(s['incorrect'])) for s in sections))\n"
      "p = b.evaluate_word_pairs(sys.argv[4])\n"
      "print(repr(float(p[1][0])), repr(float(p[0][0])), repr(float(p[2])))\n";
  const std::string spath = dir.file("check.py", script);
  auto [status, output] = run_command("/usr/bin/python3 " + spath + " " + text + " " + binary +
                                      " " + qpath + " " + ppath + " 2>&1");
  INFO(output);
  REQUIRE(status == 0);
  std::istringstream lines(output);
  std::string line;

  std::getline(lines, line);
  CHECK(line == "140 140 12 12");

  std::getline(lines, line);
  const std::string word = vocabulary.token(4 + 5);
  const float value = table[4 + 5][3].item<float>();
  std::uint32_t bits;
  std::memcpy(&bits, &value, 4);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", bits & 0xFF, (bits >> 8) & 0xFF,
                (bits >> 16) & 0xFF, bits >> 24);
  CHECK(line == word + " " + hex + " " + hex);

  std::getline(lines, line);
  CHECK(line == "1 1");  // text and binary hold the same words and the same bits

  for (std::int64_t restrict_vocab : {0, 50}) {
    CAPTURE(restrict_vocab);
    auto ours = vectors.evaluate_analogies(qpath, restrict_vocab);
    std::string expected;
    for (const auto& name : ours.section_order) {
      const auto& counts = ours.sections.at(name);
      expected += std::to_string(counts.first) + "/" + std::to_string(counts.second) + " ";
    }
    expected += std::to_string(ours.correct) + "/" + std::to_string(ours.total);
    std::getline(lines, line);
    CHECK(line == expected);
    CHECK(ours.total > 100);
    CHECK(ours.correct > 30);
    CHECK(ours.correct < ours.total);
  }

  std::getline(lines, line);
  auto ours = vectors.evaluate_similarity(ppath);
  std::istringstream fields(line);
  double spearman, pearson, oov_percent;
  fields >> spearman >> pearson >> oov_percent;
  CHECK(ours.spearman == Approx(spearman).margin(1e-6));
  CHECK(ours.pearson == Approx(pearson).margin(1e-5));
  CHECK(100.0 * (1 - ours.coverage()) == Approx(oov_percent));
}

TEST_CASE("embeddings: lmforge embed on a tiny trained run", "[embed][cli]") {
  TempDir dir;
  std::string corpus;
  for (int i = 0; i < 40; ++i) {
    corpus += "서울 은 한국 의 수도 이다\n도쿄 는 일본 의 수도 이다\n";
    corpus += "the King and the Queen rule the land\nthe man and the woman walk\n";
  }
  const std::string train = dir.file("train.txt", corpus);
  const std::string valid =
      dir.file("valid.txt", "도쿄 는 일본 의 수도 이다\nthe man and the woman walk\n");
  std::string recipe = R"(name: tiny
seed: 1
threads: 1
stages:
  - name: lm
    task: {type: language_modeling, train: TRAIN, valid: VALID, bptt: 8}
    tokenizer: {type: word, lowercase: true}
    backbone: {type: lstm, embedding_dim: 8, hidden_size: 8, layers: 1}
    head: {type: lm, tie_weights: true}
    train: {epochs: 1, batch_size: 4, max_steps: 2}
)";
  recipe.replace(recipe.find("TRAIN"), 5, train);
  recipe.replace(recipe.find("VALID"), 5, valid);
  recipe = dir.file("tiny.yaml", recipe);
  const std::string cli = LMFORGE_CLI;
  auto [trained, log] = run_command(cli + " run " + recipe + " --out " + dir.str("runs") + " 2>&1");
  INFO(log);
  REQUIRE(trained == 0);
  const std::string embed = cli + " embed " + dir.str("runs/tiny") + " ";

  auto [status, output] = run_command(embed + "nearest 서울 -k 3 2>&1");
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("nearest to '서울' (cosine similarity):") != std::string::npos);
  // Typed as in the text; the lowercasing tokenizer maps it to the vocabulary's "king".
  std::tie(status, output) = run_command(embed + "analogy man King woman -k 2 2>&1");
  CHECK(status == 0);
  CHECK(output.find("'man' is to 'king' as 'woman' is to") != std::string::npos);
  std::tie(status, output) = run_command(embed + "cluster -k 3 --limit 10 --show 3 2>&1");
  CHECK(status == 0);
  CHECK(output.find("cluster 3 (") != std::string::npos);

  const std::string exported = dir.str("tiny.bin");
  std::tie(status, output) =
      run_command(embed + "export --format word2vec-binary --output " + exported + " 2>&1");
  CHECK(status == 0);
  WordVectors loaded = WordVectors::load_word2vec(exported, true);
  CHECK(loaded.vocabulary().contains("서울"));
  CHECK(loaded.vectors().size(1) == 8);

  const std::string questions = dir.file("q.txt", ": capitals\n한국 서울 일본 도쿄\nx y z w\n");
  const std::string pairs = dir.file("p.tsv", "king\tqueen\t8\nman\twoman\t7\nland\tthe\t1\n");
  std::tie(status, output) =
      run_command(embed + "evaluate --analogies " + questions + " --similarity " + pairs + " 2>&1");
  CHECK(status == 0);
  CHECK(output.find("capitals") != std::string::npos);
  CHECK(output.find("1 of 2 questions skipped") != std::string::npos);
  CHECK(output.find("on 3 of 3 pairs (coverage 100.00%)") != std::string::npos);

  // The exported file itself, and the same vectors as a GloVe file (no header), explored and
  // evaluated without the run: the same neighbours and scores as the run gives.
  std::tie(status, output) = run_command(
      cli + " embed " + exported + " nearest 서울 -k 3 --vectors-format word2vec-binary 2>&1");
  CHECK(status == 0);
  auto [run_status, run_output] = run_command(embed + "nearest 서울 -k 3 2>&1");
  CHECK(run_status == 0);
  CHECK(output == run_output);
  std::string glove_text;
  for (std::int64_t id = lmforge::embed::kFirstWord; id < loaded.vocabulary().size(); ++id) {
    glove_text += loaded.vocabulary().token(id);
    auto row = loaded.vectors()[id];
    for (std::int64_t j = 0; j < row.size(0); ++j) {
      glove_text += " " + std::to_string(row[j].item<float>());
    }
    glove_text += "\n";
  }
  const std::string glove_file = dir.file("tiny.glove.txt", glove_text);
  std::tie(status, output) = run_command(cli + " embed " + glove_file + " evaluate --analogies " +
                                         questions + " --vectors-format glove 2>&1");
  CHECK(status == 0);
  CHECK(output.find("1 of 2 questions skipped") != std::string::npos);
  std::tie(status, output) = run_command(cli + " embed " + glove_file + " search --corpus " +
                                         pairs + " --query king --vectors-format glove 2>&1");
  CHECK(status == 2);
  CHECK(output.find("search and --corpus need a run directory") != std::string::npos);
  std::tie(status, output) =
      run_command(cli + " embed " + glove_file + " nearest king --vectors-format glvoe 2>&1");
  CHECK(status == 2);
  CHECK(output.find("unknown format 'glvoe' (did you mean 'glove'?)") != std::string::npos);

  // Mistakes: exit code 2 and one line naming the problem. (Each call costs a process start, so
  // similarity, outliers and the library's own errors are left to the tests above.)
  std::tie(status, output) = run_command(embed + "nearst king 2>&1");
  CHECK(status == 2);
  CHECK(output.find("unknown subcommand 'nearst' (did you mean 'nearest'?)") != std::string::npos);
  std::tie(status, output) = run_command(embed + "nearest kingg 2>&1");
  CHECK(status == 2);
  CHECK(output.find("word 'kingg' is not in the vocabulary (did you mean 'king'?)") !=
        std::string::npos);
  std::tie(status, output) = run_command(embed + "nearest king --count 3 2>&1");
  CHECK(status == 2);
  CHECK(output.find("--count: is not an option of `lmforge embed nearest`") != std::string::npos);
  std::tie(status, output) = run_command(cli + " embed nearest " + dir.str("runs/tiny") + " 2>&1");
  CHECK(status == 2);
  CHECK(output.find("the RUN directory comes first") != std::string::npos);
}
