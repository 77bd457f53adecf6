// The word tokenizer's normalisation options: ICU normal forms, stop words, Snowball stems and
// WordNet lemmas, with the textbook examples; the same pipeline at training and at inference, and
// stored with the vocabulary.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "support/temp_dir.h"
#include "text/snowball_stemmer.h"
#include "text/word_tokenizer.h"
#include "text/wordnet_lemmatizer.h"

namespace fs = std::filesystem;
using lmforge::Vocabulary;
using lmforge::WordTokenizer;
using lmforge::WordTokenizerOptions;
using lmforge::test::TempDir;
using Strings = std::vector<std::string>;

namespace {

WordTokenizer make(const WordTokenizerOptions& options) {
  return WordTokenizer(options, lmforge::NoContext{});
}

WordTokenizerOptions with(const std::string& normalize, const std::string& stopwords,
                          const std::string& stem, const std::string& lemma,
                          bool lowercase = true) {
  WordTokenizerOptions options;
  options.lowercase = lowercase;
  options.normalization.normalize = normalize;
  options.normalization.stopwords = stopwords;
  options.normalization.stem = stem;
  options.normalization.lemma = lemma;
  return options;
}

std::string stem(const std::string& language, const std::string& word) {
  return lmforge::text::SnowballStemmer(language, "test").stem(word);
}

}  // namespace

TEST_CASE("Snowball stems: Porter's running -> run, ran stays ran", "[normalization]") {
  for (const char* language : {"porter", "english"}) {
    INFO(language);
    CHECK(stem(language, "running") == "run");
    CHECK(stem(language, "ran") == "ran");
    CHECK(stem(language, "connections") == "connect");
    CHECK(stem(language, "caresses") == "caress");
  }
  CHECK(stem("german", "häuser") == "haus");
  CHECK_THROWS_WITH(lmforge::text::SnowballStemmer("klingon", "tokenizer option stem"),
                    Catch::Contains("tokenizer option stem") && Catch::Contains("klingon") &&
                        Catch::Contains("english"));
}

TEST_CASE("WordNet lemmas: ran -> run, better -> good; lemmas stay", "[normalization]") {
  const lmforge::text::WordNetLemmatizer wordnet("test");
  CHECK(wordnet.lemma("ran") == "run");
  CHECK(wordnet.lemma("running") == "run");
  CHECK(wordnet.lemma("better") == "good");
  CHECK(wordnet.lemma("geese") == "goose");
  CHECK(wordnet.lemma("was") == "be");
  CHECK(wordnet.lemma("studies") == "study");
  CHECK(wordnet.lemma("played") == "play");
  CHECK(wordnet.lemma("movies") == "movie");
  // Already lemmas: not cut further (NLTK's noun rule turns "as" into "a").
  CHECK(wordnet.lemma("as") == "as");
  CHECK(wordnet.lemma("bed") == "bed");        // not "be" by the -ed rule
  CHECK(wordnet.lemma("boring") == "boring");  // WordNet's noun (the act of drilling)
  CHECK(wordnet.lemma("qwzx") == "qwzx");
  TempDir empty("wordnet");
  CHECK_THROWS_WITH(lmforge::text::WordNetLemmatizer("tokenizer option lemma", empty.path.string()),
                    Catch::Contains("tokenizer option lemma") && Catch::Contains("wordnet-base"));
}

TEST_CASE("the pipeline in order: normal form, lowercase, stop words, lemma, stem",
          "[normalization]") {
  // NFKC folds full-width letters and ligatures; NFC only composes.
  CHECK(make(with("nfkc", "", "none", "none", false)).split("Ｆｕｌｌ ﬁne ①") ==
        Strings{"Full", "fine", "1"});
  CHECK(make(with("nfc", "", "none", "none", false)).split("Ｆｕｌｌ") == Strings{"Ｆｕｌｌ"});
  // A decomposed Hangul syllable (ᄒ + ᅡ + ᆫ) composes to 한 under NFC, so both spellings are one
  // word.
  CHECK(make(with("nfc", "", "none", "none")).split("\u1112\u1161\u11ab국") == Strings{"한국"});
  CHECK(make(with("none", "", "none", "none")).split("\u1112\u1161\u11ab국") != Strings{"한국"});

  CHECK(make(with("none", "english", "none", "none")).split("The movie was NOT good") ==
        Strings{"movie", "not", "good"});
  CHECK(make(with("none", "korean", "none", "none")).split("그리고 영화가 정말 좋았다") ==
        Strings{"영화가", "정말", "좋았다"});
  CHECK(make(with("none", "", "porter", "none")).split("The runners were running") ==
        Strings{"the", "runner", "were", "run"});
  CHECK(make(with("none", "", "none", "english")).split("The geese ran better") ==
        Strings{"the", "goose", "run", "good"});
  // Lemma before stem: "better" -> good -> good; "studies" -> study -> studi.
  CHECK(make(with("none", "english", "english", "english")).split("The studies were better") ==
        Strings{"studi", "good"});
  // A possessive alone (PTB's 's) would stem to nothing; it stays a token.
  WordTokenizerOptions ptb = with("none", "", "english", "none");
  ptb.split = "whitespace";
  CHECK(make(ptb).split("it 's") == Strings{"it", "'s"});
}

TEST_CASE("stop-word files, and the list stored with the vocabulary", "[normalization]") {
  TempDir dir("stopwords");
  const std::string list = dir.file("stop.txt", "# my list\nmovie\n\n  film  \n");
  WordTokenizer trained = make(with("none", list, "none", "none"));
  CHECK(trained.split("the movie and the film") == Strings{"the", "and", "the"});
  trained.count("the movie and the film were fine");
  trained.build_vocabulary();
  const std::string vocab_path = (dir.path / "vocab.txt").string();
  trained.vocabulary().save(vocab_path);
  CHECK(fs::exists(dir.path / "vocab.stopwords.txt"));
  CHECK(fs::exists(dir.path / "vocab.word-pipeline.txt"));

  // The file is gone; the run still reloads with the stored list.
  fs::remove(list);
  WordTokenizer reloaded = make(with("none", list, "none", "none"));
  reloaded.set_vocabulary(Vocabulary::load(vocab_path));
  CHECK(reloaded.split("the movie and the film") == Strings{"the", "and", "the"});

  // Without a stored list, a missing file is one error naming the option, at first use.
  WordTokenizer missing = make(with("none", list, "none", "none"));
  CHECK_THROWS_WITH(missing.count("anything"),
                    Catch::Contains("option stopwords") && Catch::Contains("stop.txt"));
}

TEST_CASE("normalisation is the same at training and at inference, and must match",
          "[normalization]") {
  TempDir dir("normalized_vocab");
  const WordTokenizerOptions options = with("nfkc", "english", "porter", "english");
  WordTokenizer trained = make(options);
  for (const char* line : {"The runners ran to the race", "She is running better races"}) {
    trained.count(line);
  }
  trained.build_vocabulary();
  const std::string vocab_path = (dir.path / "vocab.txt").string();
  trained.vocabulary().save(vocab_path);

  // What generate, predict and later stages do: the stage's options, then its vocabulary.
  WordTokenizer inference = make(options);
  inference.set_vocabulary(Vocabulary::load(vocab_path));
  // Inflected forms the training text never had map to the trained lemmas/stems, not to <unk>.
  const auto ids = inference.encode("RUNNING Races");
  CHECK(ids == trained.encode("run race"));
  CHECK(std::find(ids.begin(), ids.end(), Vocabulary::kUnk) == ids.end());
  CHECK(inference.vocabulary().contains("run"));
  CHECK_FALSE(inference.vocabulary().contains("running"));

  // A tokenizer without the pipeline would read other words: refused, naming both pipelines.
  WordTokenizer plain = make(WordTokenizerOptions{});
  CHECK_THROWS_WITH(plain.set_vocabulary(Vocabulary::load(vocab_path)),
                    Catch::Contains("stem=porter") && Catch::Contains("'none'"));
  WordTokenizer other = make(with("nfkc", "english", "english", "english"));
  CHECK_THROWS_AS(other.set_vocabulary(Vocabulary::load(vocab_path)), lmforge::DataError);
  // A vocabulary built without normalisation carries nothing extra and reloads as before.
  WordTokenizer unnormalized = make(WordTokenizerOptions{});
  unnormalized.count("a b");
  unnormalized.build_vocabulary();
  CHECK(unnormalized.vocabulary().attachment(WordTokenizer::kPipelineAttachment) == nullptr);
}
