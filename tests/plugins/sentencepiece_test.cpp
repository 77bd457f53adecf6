// The sentencepiece tokenizer plugin: training in-process, exact round trips (ASCII, Korean,
// emoji, ill-formed UTF-8), the model saved beside vocab.txt and reloaded to identical ids, models
// from outside lmforge, and one clear error for each bad input.
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "support/temp_dir.h"
#include "tokenizers/sentencepiece/sentencepiece_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::SentencePieceOptions;
using lmforge::SentencePieceTokenizer;
using lmforge::Vocabulary;
using lmforge::test::TempDir;

namespace {

// A small bilingual corpus: real words (Korean ones with particles attached, as Korean writes
// them) and made-up words, so the text supports a few hundred pieces besides byte_fallback's 256.
std::vector<std::string> corpus(std::size_t lines = 600) {
  std::vector<std::string> english{"the",    "movie", "was",     "really", "good",
                                   "boring", "actor", "played",  "music",  "story",
                                   "and",    "but",   "running", "ran",    "better"};
  const std::vector<std::string> korean{"영화가", "정말",   "재미있었다", "배우는", "연기를",
                                        "잘했다", "음악이", "좋았다",     "그리고", "하지만"};
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string word;
    for (std::size_t n = 3 + rng() % 6; n > 0; --n) word += static_cast<char>('a' + rng() % 26);
    english.push_back(word);
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines; ++i) {
    const auto& words = i % 2 == 0 ? english : korean;
    std::string line;
    for (int w = 0; w < 8; ++w) {
      line += (w ? " " : "") + words[rng() % words.size()];
    }
    out.push_back(line + (i % 3 == 0 ? "." : ""));
  }
  return out;
}

SentencePieceOptions small_options(const std::string& type = "unigram") {
  SentencePieceOptions options;
  options.model_type = type;
  options.vocab_size = 400;  // 4 specials, 256 bytes, about 60 characters and the pieces
  options.character_coverage = 1.0;
  options.byte_fallback = true;
  options.threads = 1;
  return options;
}

SentencePieceTokenizer trained(const SentencePieceOptions& options) {
  SentencePieceTokenizer tokenizer(options, lmforge::NoContext{});
  for (const std::string& line : corpus()) tokenizer.count(line);
  tokenizer.build_vocabulary();
  return tokenizer;
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const lmforge::Error& e) {
    CHECK(e.code() == lmforge::ExitCode::kUsage);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("sentencepiece trains unigram and bpe models whose ids are the vocabulary's",
          "[sentencepiece]") {
  for (const char* type : {"unigram", "bpe"}) {
    INFO(type);
    SentencePieceTokenizer tok = trained(small_options(type));
    const Vocabulary& vocab = tok.vocabulary();
    CHECK(vocab.size() == 400);
    CHECK(vocab.token(Vocabulary::kPad) == "<pad>");
    CHECK(vocab.token(Vocabulary::kUnk) == "<unk>");
    CHECK(vocab.token(Vocabulary::kBos) == "<bos>");
    CHECK(vocab.token(Vocabulary::kEos) == "<eos>");
    CHECK(vocab.attachment(SentencePieceTokenizer::kModelAttachment) != nullptr);
    // Pieces are the split; the ids are those pieces' vocabulary ids.
    const std::string text = "the movie was really good";
    const auto pieces = tok.split(text);
    const auto ids = tok.encode(text);
    REQUIRE(pieces.size() == ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) CHECK(vocab.token(ids[i]) == pieces[i]);
    CHECK(pieces.front().rfind("\xE2\x96\x81", 0) == 0);  // ▁ marks the word start
    // Counts are piece frequencies on the training sample.
    CHECK(vocab.counts()[static_cast<std::size_t>(ids.front())] > 0);
  }
}

TEST_CASE("sentencepiece round-trips ASCII, Korean, emoji and ill-formed UTF-8",
          "[sentencepiece]") {
  SentencePieceTokenizer tok = trained(small_options());
  for (const std::string text : {"the movie was really good.", "영화가 정말 재미있었다",
                                 "배우는 연기를 잘했다 😀👍🏽",
                                 "unseen words: zebra quokka", "mixed 영화 and movie"}) {
    INFO(text);
    const auto ids = tok.encode(text);
    CHECK(tok.decode(ids) == text);
    CHECK(tok.join(tok.split(text)) == text);
    // byte_fallback: characters the model never saw are bytes, not <unk>.
    CHECK(std::count(ids.begin(), ids.end(), Vocabulary::kUnk) == 0);
  }
  // A bad byte becomes U+FFFD and nothing else is lost; decoded text has no ▁.
  const std::string decoded = tok.decode(tok.encode("good \xff movie"));
  CHECK(decoded == "good \xEF\xBF\xBD movie");
  // Specials are dropped from decoded text.
  auto ids = tok.encode("good movie");
  ids.insert(ids.begin(), Vocabulary::kBos);
  ids.push_back(Vocabulary::kEos);
  CHECK(tok.decode(ids) == "good movie");
  CHECK_THROWS_AS(tok.decode({400}), lmforge::Error);
}

TEST_CASE("without byte_fallback an unseen character is <unk>", "[sentencepiece]") {
  SentencePieceOptions options = small_options();
  options.byte_fallback = false;
  options.vocab_size = 150;
  SentencePieceTokenizer tok = trained(options);
  const auto ids = tok.encode("good 😀 movie");
  CHECK(std::count(ids.begin(), ids.end(), Vocabulary::kUnk) == 1);
}

TEST_CASE("a saved sentencepiece vocabulary reloads to identical ids", "[sentencepiece]") {
  TempDir dir("sentencepiece");
  SentencePieceOptions options = small_options();
  options.user_defined_symbols = {"<sep>"};
  SentencePieceTokenizer tok = trained(options);
  const std::string vocab_path = (dir.path / "vocab.txt").string();
  tok.vocabulary().save(vocab_path);
  const std::string model_path = Vocabulary::attachment_path(vocab_path, "sentencepiece.model");
  CHECK(model_path == (dir.path / "vocab.sentencepiece.model").string());
  REQUIRE(fs::exists(model_path));

  const std::vector<std::string> texts{"the movie <sep> 영화가 정말", "배우는 😀 zebra"};
  // As a later stage, generate or predict reload it: options from stage.yaml, then the vocabulary.
  SentencePieceTokenizer reloaded(small_options(), lmforge::NoContext{});
  reloaded.set_vocabulary(Vocabulary::load(vocab_path));
  // As a recipe that names the saved model file.
  SentencePieceOptions from_file;
  from_file.model = model_path;
  SentencePieceTokenizer loaded(from_file, lmforge::NoContext{});
  loaded.build_vocabulary();
  CHECK(loaded.vocabulary() == tok.vocabulary());
  for (const std::string& text : texts) {
    CHECK(reloaded.encode(text) == tok.encode(text));
    CHECK(loaded.encode(text) == tok.encode(text));
  }
  const auto pieces = tok.split("a<sep>b");  // a user-defined symbol is always one piece
  CHECK(std::find(pieces.begin(), pieces.end(), "<sep>") != pieces.end());
  CHECK(reloaded.vocabulary().counts() == tok.vocabulary().counts());
  // Saved again (the next stage's vocab.txt), the model travels along.
  TempDir next("sentencepiece_next");
  reloaded.vocabulary().save((next.path / "vocab.txt").string());
  CHECK(fs::exists(next.path / "vocab.sentencepiece.model"));
}

TEST_CASE("a model trained outside lmforge maps its own specials onto lmforge's",
          "[sentencepiece]") {
  TempDir dir("sentencepiece_foreign");
  // sentencepiece's defaults: <unk>=0, <s>=1, </s>=2, no pad, as spm_train and Python write them.
  std::string serialized;
  {
    struct Lines : sentencepiece::SentenceIterator {
      std::vector<std::string> lines = corpus();
      std::size_t i = 0;
      bool done() const override { return i >= lines.size(); }
      void Next() override { ++i; }
      const std::string& value() const override { return lines[i]; }
      sentencepiece::util::Status status() const override { return {}; }
    } lines;
    auto status = sentencepiece::SentencePieceTrainer::Train(
        {{"vocab_size", "100"}, {"character_coverage", "1.0"}, {"minloglevel", "2"}}, &lines,
        &serialized);
    REQUIRE(status.ok());
  }
  const std::string model = dir.file("foreign.model", serialized);
  SentencePieceOptions options;
  options.model = model;
  SentencePieceTokenizer tok(options, lmforge::NoContext{});
  tok.count("ignored: a given model learns nothing");
  tok.build_vocabulary();
  const Vocabulary& vocab = tok.vocabulary();
  CHECK(vocab.size() == 100 - 3 + 4);  // its 3 specials become lmforge's 4
  CHECK(vocab.token(Vocabulary::kBos) == "<bos>");
  const std::string text = "영화가 정말 좋았다 and the story";
  const auto ids = tok.encode(text);
  CHECK(tok.decode(ids) == text);
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(vocab.token(ids[i]) == tok.split(text)[i]);
  const auto unseen = tok.encode("ζ");  // ▁ and a character the model never saw
  CHECK(std::count(unseen.begin(), unseen.end(), Vocabulary::kUnk) == 1);
}

TEST_CASE("sentencepiece refuses bad input with the option named", "[sentencepiece]") {
  TempDir dir("sentencepiece_bad");
  SentencePieceOptions options = small_options();

  options.model_type = "wordpiece";
  CHECK_THAT(error_of([&] { SentencePieceTokenizer(options, lmforge::NoContext{}); }),
             Catch::Contains("option model_type") && Catch::Contains("unigram, bpe"));

  options = small_options();
  options.vocab_size = 50000;
  CHECK_THAT(error_of([&] { trained(options); }), Catch::Contains("option vocab_size") &&
                                                      Catch::Contains("50000") &&
                                                      Catch::Contains("larger than"));
  options.vocab_size = 100;  // fewer than the 256 bytes and the characters
  CHECK_THAT(error_of([&] { trained(options); }),
             Catch::Contains("option vocab_size") && Catch::Contains("too small"));

  options = small_options();
  options.vocab_size = 4;
  CHECK_THAT(error_of([&] { SentencePieceTokenizer(options, lmforge::NoContext{}); }),
             Catch::Contains("option vocab_size"));

  options = small_options();
  options.user_defined_symbols = {"a,b"};
  CHECK_THAT(error_of([&] { SentencePieceTokenizer(options, lmforge::NoContext{}); }),
             Catch::Contains("user_defined_symbols"));

  SentencePieceOptions from_file;
  from_file.model = (dir.path / "missing.model").string();
  CHECK_THAT(error_of([&] {
               SentencePieceTokenizer tok(from_file, lmforge::NoContext{});
               tok.build_vocabulary();
             }),
             Catch::Contains("option model") && Catch::Contains("missing.model"));
  from_file.model = dir.file("corrupt.model", "this is not a protobuf \x01\x02\x03");
  CHECK_THAT(error_of([&] {
               SentencePieceTokenizer tok(from_file, lmforge::NoContext{});
               tok.build_vocabulary();
             }),
             Catch::Contains("option model") && Catch::Contains("corrupt.model"));

  SentencePieceTokenizer empty(small_options(), lmforge::NoContext{});
  CHECK_THAT(error_of([&] { empty.build_vocabulary(); }), Catch::Contains("no non-empty line"));

  // A vocabulary without its model (made by the word tokenizer, or the model file deleted).
  Vocabulary words;
  words.add("hello");
  words.save((dir.path / "vocab.txt").string());
  SentencePieceTokenizer reload(small_options(), lmforge::NoContext{});
  CHECK_THAT(
      error_of([&] { reload.set_vocabulary(Vocabulary::load((dir.path / "vocab.txt").string())); }),
      Catch::Contains("vocab.sentencepiece.model"));
  // An edited vocabulary no longer matches its model.
  SentencePieceTokenizer tok = trained(small_options());
  Vocabulary grown = tok.vocabulary();
  grown.add("extra");
  CHECK_THAT(error_of([&] { reload.set_vocabulary(grown); }),
             Catch::Contains("cannot be extended"));
}

TEST_CASE("input_sentence_size bounds the training sample", "[sentencepiece]") {
  SentencePieceOptions options = small_options();
  options.input_sentence_size = 50;
  options.byte_fallback = false;
  options.vocab_size = 100;
  SentencePieceTokenizer tok(options, lmforge::NoContext{});
  for (const std::string& line : corpus(2000)) tok.count(line);
  tok.build_vocabulary();
  // Piece counts come from the sample: 50 lines of 8 words (all 2000 lines give at least 16,000
  // pieces).
  std::int64_t total = 0;
  for (std::int64_t c : tok.vocabulary().counts()) total += c;
  CHECK(total >= 50 * 8);
  CHECK(total < 2000 * 8 / 4);
}

namespace {

// Piece frequencies as a per-line encoding of every training line gives them: what the
// vocabulary's counts must equal, however the tokenizer computes them.
std::vector<std::int64_t> per_line_counts(const SentencePieceTokenizer& tok,
                                          const std::vector<std::string>& lines) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(tok.vocabulary().size()), 0);
  for (const std::string& line : lines) {
    for (std::int64_t id : tok.encode(line)) ++counts[static_cast<std::size_t>(id)];
  }
  return counts;
}

std::vector<std::string> read_lines(const std::string& path, std::size_t limit) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; lines.size() < limit && std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("piece counts are those of encoding every training line whole", "[sentencepiece]") {
  // Whitespace the normaliser collapses or maps to a space (runs of spaces, leading and trailing
  // ones, a tab, U+3000), characters it removes or rewrites (a control character, NFKC's ﬁ and
  // full-width letters, a lone combining mark after a space), unseen characters (byte fallback or
  // <unk>) and repeated words: the pieces counted word by word must be the line's pieces.
  std::vector<std::string> lines = corpus();
  const std::vector<std::string> odd{
      "  the movie  was   good  ",
      "영화가\t정말 재미있었다\xE3\x80\x80배우는 연기를",
      "a \x01 b \xEF\xAC\x81ne \xEF\xBD\x8D\xEF\xBD\x8F\xEF\xBD\x96\xEF\xBD\x89\xEF\xBD\x85",
      "caf\xC3\xA9 cafe\xCC\x81 e \xCC\x81 \xC2\xB4 x",
      "\xF0\x9F\x98\x80 the \xF0\x9F\x98\x80\xF0\x9F\x98\x80 movie",
      "the the the the the the",
  };
  for (int i = 0; i < 20; ++i) lines.insert(lines.end(), odd.begin(), odd.end());
  for (const char* type : {"unigram", "bpe"}) {
    for (bool byte_fallback : {true, false}) {
      for (std::int64_t threads : {1, 3}) {
        INFO(type << " byte_fallback " << byte_fallback << " threads " << threads);
        SentencePieceOptions options = small_options(type);
        options.byte_fallback = byte_fallback;
        options.vocab_size = byte_fallback ? 400 : 200;
        options.character_coverage = 0.995;  // the rarest characters stay unseen
        options.threads = threads;
        SentencePieceTokenizer tok(options, lmforge::NoContext{});
        for (const std::string& line : lines) tok.count(line);
        tok.build_vocabulary();
        CHECK(tok.vocabulary().counts() == per_line_counts(tok, lines));
      }
    }
  }
}

TEST_CASE("a user-defined symbol that spans words is counted where it matches", "[sentencepiece]") {
  // "good▁movie" matches the normalised "good movie" across the space: counting word by word
  // would miss it, so such a symbol makes the count encode whole lines.
  std::vector<std::string> lines = corpus();
  lines.insert(lines.end(), 10, std::string("the good movie was really good"));
  SentencePieceOptions options = small_options();
  options.user_defined_symbols = {"good\xE2\x96\x81movie", "<sep>"};
  SentencePieceTokenizer tok(options, lmforge::NoContext{});
  for (const std::string& line : lines) tok.count(line);
  tok.build_vocabulary();
  const std::vector<std::int64_t> expected = per_line_counts(tok, lines);
  const std::int64_t symbol = tok.vocabulary().id("good\xE2\x96\x81movie");
  REQUIRE(symbol != Vocabulary::kUnk);
  CHECK(expected[static_cast<std::size_t>(symbol)] >= 10);  // it does span "good movie"
  CHECK(tok.vocabulary().counts() == expected);
}

TEST_CASE("piece counts on real text equal a whole-line encoding", "[sentencepiece][data]") {
  // WikiText-2 (English, pre-tokenised) and ko-novels (Korean) when ../shared/data is there.
  const char* env = std::getenv("LMFORGE_DATA");
  const fs::path data = env && *env ? env : fs::path(LMFORGE_SOURCE_DIR) / ".." / "shared" / "data";
  for (const char* file : {"wikitext-2/train.txt", "ko-novels/train.txt"}) {
    INFO(file);
    if (!fs::exists(data / file)) {
      WARN("skipped: " << (data / file).string() << " not found");
      continue;
    }
    const std::vector<std::string> lines = read_lines((data / file).string(), 8000);
    for (const char* type : {"unigram", "bpe"}) {
      INFO(type);
      SentencePieceOptions options;
      options.model_type = type;
      options.vocab_size = 4000;
      options.threads = 2;
      SentencePieceTokenizer tok(options, lmforge::NoContext{});
      for (const std::string& line : lines) tok.count(line);
      tok.build_vocabulary();
      CHECK(tok.vocabulary().counts() == per_line_counts(tok, lines));
    }
  }
}
