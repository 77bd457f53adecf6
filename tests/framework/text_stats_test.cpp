// The <unk>-share report and bits per character (lmforge/text_stats.h), which the tasks print.
#include "lmforge/text_stats.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"

using lmforge::UnknownShare;
using lmforge::Vocabulary;

TEST_CASE("unknown share counts <unk> among real tokens only", "[text_stats]") {
  UnknownShare share;
  CHECK(share.share() == 0.0);
  share.add({Vocabulary::kBos, 5, Vocabulary::kUnk, 7, Vocabulary::kEos, Vocabulary::kPad});
  share.add(std::vector<std::int64_t>{Vocabulary::kUnk, 9});
  CHECK(share.tokens == 5);
  CHECK(share.unknown == 2);
  CHECK(share.share() == Approx(0.4));
}

TEST_CASE("unknown share report: a line always, a warning above the threshold", "[text_stats]") {
  UnknownShare low;
  low.tokens = 929589;
  low.unknown = 45020;
  auto report = lmforge::report_unknown_share("train", low);
  CHECK(report.line == "train: 4.8% of 929,589 tokens are <unk>");
  CHECK(report.warning.empty());

  UnknownShare high;
  high.tokens = 1000;
  high.unknown = 620;
  report = lmforge::report_unknown_share("valid", high, "pretrain");
  CHECK(report.line == "valid: 62.0% of 1,000 tokens are <unk>");
  CHECK_THAT(report.warning, Catch::Contains("62.0% of the valid split"));
  CHECK_THAT(report.warning, Catch::Contains("'pretrain'"));
  CHECK_THAT(report.warning, Catch::Contains("vocabulary: extend"));
  // A vocabulary built on the stage's own data gets the other advice.
  report = lmforge::report_unknown_share("test", high);
  CHECK_THAT(report.warning, Catch::Contains("min_count"));
  CHECK(lmforge::report_unknown_share("test", high, "", 0.7).warning.empty());
  CHECK(lmforge::report_unknown_share("x", UnknownShare{}).line == "x: 0.0% of 0 tokens are <unk>");
}

TEST_CASE("characters are code points; bits per character divide by ln 2", "[text_stats]") {
  CHECK(lmforge::count_characters("") == 0);
  CHECK(lmforge::count_characters("abc") == 3);
  CHECK(lmforge::count_characters("안녕 👍") == 4);
  CHECK(lmforge::count_characters("a\xff"
                                  "b") == 3);  // one U+FFFD for the bad byte
  CHECK(lmforge::bits_per_character(100 * std::log(2.0), 50) == Approx(2.0));
  CHECK_THROWS_AS(lmforge::bits_per_character(1.0, 0), lmforge::Error);
}
