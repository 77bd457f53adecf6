// The word tokenizer's `split: whitespace` mode: the standard tokenisation of Penn Treebank and
// WikiText-2, checked on a fixture and, when ../shared/data is there, on the real files against
// the counts every published result uses.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "lmforge/text_file.h"
#include "lmforge/vocabulary.h"
#include "support/temp_dir.h"
#include "text/word_tokenizer.h"

namespace fs = std::filesystem;
using lmforge::Vocabulary;
using lmforge::WordTokenizer;
using Strings = std::vector<std::string>;

namespace {

WordTokenizer whitespace_tokenizer(bool lowercase = false) {
  lmforge::WordTokenizerOptions options;
  options.split = "whitespace";
  options.lowercase = lowercase;
  return WordTokenizer(options, lmforge::NoContext{});
}

std::string data_dir() {
  const char* env = std::getenv("LMFORGE_DATA");
  return env && *env ? env : std::string(LMFORGE_SOURCE_DIR) + "/../shared/data";
}

struct CorpusCounts {
  std::int64_t vocabulary_size = 0;  // lmforge's, with <pad> and <bos>
  std::int64_t distinct_ids = 0;     // ids that occur in the encoded stream, <eos> included
  std::int64_t tokens = 0;           // encoded stream length: tokens + one <eos> per line
  std::int64_t unk_tokens = 0;
};

// What the language-modelling task does with a training file: count every line, freeze the
// vocabulary, then encode each line followed by <eos>.
CorpusCounts count_corpus(const std::string& path) {
  WordTokenizer tokenizer = whitespace_tokenizer();
  lmforge::for_each_line(path, "utf-8", "test",
                         [&](const std::string& line, std::int64_t) { tokenizer.count(line); });
  tokenizer.build_vocabulary();
  CorpusCounts counts;
  counts.vocabulary_size = tokenizer.vocabulary().size();
  std::set<std::int64_t> seen;
  lmforge::for_each_line(path, "utf-8", "test", [&](const std::string& line, std::int64_t) {
    for (std::int64_t id : tokenizer.encode(line)) {
      seen.insert(id);
      counts.unk_tokens += id == Vocabulary::kUnk;
      ++counts.tokens;
    }
    seen.insert(Vocabulary::kEos);
    ++counts.tokens;
  });
  counts.distinct_ids = static_cast<std::int64_t>(seen.size());
  return counts;
}

}  // namespace

TEST_CASE("whitespace split keeps a ready-tokenised corpus's tokens exactly", "[tokenizer]") {
  const WordTokenizer tok = whitespace_tokenizer();
  // PTB's contractions and WikiText's separators are words of their own; nothing else is split.
  CHECK(tok.split(" the company 's stock did n't rise N % <unk> ") ==
        Strings{"the", "company", "'s", "stock", "did", "n't", "rise", "N", "%", "<unk>"});
  CHECK(tok.split(" 1 @,@ 000 years , in U.S. ( = Title = ) ") ==
        Strings{"1", "@,@", "000", "years", ",", "in", "U.S.", "(", "=", "Title", "=", ")"});
  // Any Unicode whitespace separates; Korean and emoji stay whole; a lone byte-order mark (36
  // of them in WikiText-2's training text) is a token like any other field.
  CHECK(tok.split("안녕하세요,\t세계!\u3000👍🏽 done. \uFEFF") ==
        Strings{"안녕하세요,", "세계!", "👍🏽", "done.", "\uFEFF"});
  CHECK(tok.split("   ").empty());
  CHECK(tok.split("bad\xff byte") == Strings{"bad\xEF\xBF\xBD", "byte"});
  CHECK(whitespace_tokenizer(true).split("The U.S. <UNK>") == Strings{"the", "u.s.", "<unk>"});
}

TEST_CASE("whitespace split: the data set's <unk> is the unknown token", "[tokenizer]") {
  lmforge::test::TempDir dir("whitespace");
  const std::string path = dir.file("train.txt", " a <unk> b 's \n\n c a <unk> \n a n't \n");
  WordTokenizer tokenizer = whitespace_tokenizer();
  lmforge::for_each_line(path, "utf-8", "test",
                         [&](const std::string& line, std::int64_t) { tokenizer.count(line); });
  tokenizer.build_vocabulary();
  const Vocabulary& vocab = tokenizer.vocabulary();
  // 4 specials + a b 's c n't; <unk> is not added a second time and keeps id 1 with its count.
  CHECK(vocab.size() == 9);
  CHECK(vocab.id("<unk>") == Vocabulary::kUnk);
  CHECK(vocab.counts()[Vocabulary::kUnk] == 2);
  CHECK(vocab.token(4) == "a");
  CHECK(vocab.counts()[4] == 3);
  CHECK(tokenizer.encode("a <unk> zzz") ==
        std::vector<std::int64_t>{4, Vocabulary::kUnk, Vocabulary::kUnk});

  const CorpusCounts counts = count_corpus(path);
  // 4 + 0 + 3 + 2 words, one <eos> for each of the 4 lines (the empty one too).
  CHECK(counts.tokens == 9 + 4);
  CHECK(counts.distinct_ids == 7);  // a b 's c n't <unk> <eos>
}

TEST_CASE("Penn Treebank and WikiText-2 have their published vocabularies and token counts",
          "[tokenizer][data][slow]") {
  struct Corpus {
    const char* file;
    std::int64_t vocabulary;  // word types incl. <unk> and <eos>, as the literature counts them
    std::int64_t tokens;      // training tokens incl. one <eos> per line
  };
  for (const Corpus& corpus : {Corpus{"ptb/ptb.train.txt", 10000, 929589},
                               Corpus{"wikitext-2/train.txt", 33278, 2088628}}) {
    const fs::path path = fs::path(data_dir()) / corpus.file;
    if (!fs::exists(path)) {
      WARN("skipped: " << path.string() << " not found (set LMFORGE_DATA to the data folder)");
      continue;
    }
    INFO(path.string());
    const CorpusCounts counts = count_corpus(path.string());
    CHECK(counts.distinct_ids == corpus.vocabulary);
    // lmforge's vocabulary adds <pad> and <bos>, which never occur in the text.
    CHECK(counts.vocabulary_size == corpus.vocabulary + 2);
    CHECK(counts.tokens == corpus.tokens);
    CHECK(counts.unk_tokens > 0);
  }
}
