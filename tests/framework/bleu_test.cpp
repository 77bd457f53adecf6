// Corpus BLEU against sacreBLEU. Every expected number below was computed independently with
// sacreBLEU 2.6.0 (pip, Python 3.11):
//   from sacrebleu.metrics import BLEU
//   BLEU(tokenize=T).corpus_score(hyps, [refs])  -> .score, .counts, .totals, .sys_len, .ref_len
//   sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()(line)  -> the 13a tokenisations
// (defaults otherwise: 4-grams, 'exp' smoothing, mixed case).
#include "lmforge/bleu.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lmforge/error.h"

using lmforge::BleuScore;
using lmforge::corpus_bleu;

namespace {

void check_counts(const BleuScore& s, std::array<std::int64_t, 4> correct,
                  std::array<std::int64_t, 4> total, std::int64_t hyp_len, std::int64_t ref_len) {
  CHECK(s.correct == correct);
  CHECK(s.total == total);
  CHECK(s.hypothesis_length == hyp_len);
  CHECK(s.reference_length == ref_len);
}

}  // namespace

TEST_CASE("13a tokenisation equals sacreBLEU's", "[bleu]") {
  CHECK(lmforge::tokenize_13a("Hello, world! It costs $3.50 (or 3,000-4,000 yen).") ==
        "Hello , world ! It costs $ 3.50 ( or 3,000 - 4,000 yen ) .");
  CHECK(lmforge::tokenize_13a("Zwei Männer &amp; ein Hund&quot;s \"Spiel\"... ok.") ==
        "Zwei Männer & ein Hund \" s \" Spiel \" . . . ok .");
  CHECK(lmforge::tokenize_13a("1990-2000 a.b,c x. y, z.") == "1990 - 2000 a . b , c x . y , z .");
  CHECK(lmforge::tokenize_13a("tab\there  <skipped> end-\nline") == "tab here endline");
}

TEST_CASE("corpus BLEU equals sacreBLEU on mixed sentences", "[bleu]") {
  std::vector<std::string> hyps{
      "The cat sat on the mat.", "Zwei junge Männer spielen Fußball, 3.5 Stunden lang!",
      "A dog runs (fast) in the park.",
      "it is a guide to action which ensures that the military always obeys the commands of the "
      "party"};
  std::vector<std::string> refs{
      "The cat is sitting on the mat.", "Zwei junge Männer spielen Fußball 3.5 Stunden.",
      "A dog is running quickly through the park.",
      "it is a guide to action that ensures that the military will forever heed party commands"};
  BleuScore s = corpus_bleu(hyps, refs, "13a");
  check_counts(s, {30, 20, 12, 7}, {45, 41, 37, 33}, 45, 41);
  CHECK(s.brevity_penalty == Approx(1.0));
  CHECK(s.score == Approx(38.67493794204785).epsilon(1e-12));
}

TEST_CASE("BLEU is 0 when no n-gram matches", "[bleu]") {
  BleuScore s = corpus_bleu({"a b c d"}, {"e f g h"});
  check_counts(s, {0, 0, 0, 0}, {4, 3, 2, 1}, 4, 4);
  CHECK(s.score == 0.0);
}

TEST_CASE("a short hypothesis pays the brevity penalty", "[bleu]") {
  BleuScore s = corpus_bleu({"the cat sat on"}, {"the cat sat on the mat today ."});
  check_counts(s, {4, 3, 2, 1}, {4, 3, 2, 1}, 4, 8);
  CHECK(s.brevity_penalty == Approx(0.36787944117144233).epsilon(1e-12));
  CHECK(s.score == Approx(36.78794411714425).epsilon(1e-12));
}

TEST_CASE("orders without a match are smoothed as sacreBLEU's 'exp'", "[bleu]") {
  BleuScore s = corpus_bleu({"the cat on a mat"}, {"the cat sat on the mat"});
  check_counts(s, {4, 1, 0, 0}, {5, 4, 3, 2}, 5, 6);
  CHECK(s.brevity_penalty == Approx(0.8187307530779819).epsilon(1e-12));
  CHECK(s.score == Approx(20.80119537801062).epsilon(1e-12));
}

TEST_CASE("tokenize none takes already tokenised text as it is", "[bleu]") {
  BleuScore s = corpus_bleu({"the cat , sat on the mat .", "a man ."},
                            {"the cat sat on the mat .", "a man walks ."}, "none");
  check_counts(s, {10, 6, 3, 2}, {11, 9, 7, 5}, 11, 11);
  CHECK(s.score == Approx(56.77404209761289).epsilon(1e-12));
  // The same pair under 13a splits nothing more, so the score is the same.
  CHECK(corpus_bleu({"the cat , sat on the mat ."}, {"the cat sat on the mat ."}, "13a").score ==
        corpus_bleu({"the cat , sat on the mat ."}, {"the cat sat on the mat ."}, "none").score);
}

TEST_CASE("BLEU refuses mismatched line counts and unknown tokenisations", "[bleu]") {
  CHECK_THROWS_WITH(corpus_bleu({"a", "b"}, {"a"}), Catch::Contains("2 hypotheses but 1"));
  CHECK_THROWS_AS(lmforge::BleuStatistics("intl"), lmforge::ConfigError);
  CHECK(lmforge::BleuScore{}.format().rfind("BLEU = 0.00", 0) == 0);
}
