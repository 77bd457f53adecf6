#pragma once
// Corpus BLEU (Papineni et al. 2002) exactly as sacreBLEU 2.x computes it by default: each line
// tokenised by mteval-v13a's rules ("13a") or taken as already tokenised ("none", split on
// whitespace), clipped n-gram matches up to 4-grams summed over the corpus, the brevity penalty
// from the summed hypothesis and reference lengths, and sacreBLEU's default 'exp' smoothing
// (mteval's: an order with no match counts as 1/2^k of a match). One reference per line.
//
// Example:
//   lmforge::BleuStatistics stats("13a");
//   for (size_t i = 0; i < hyps.size(); ++i) stats.add(hyps[i], refs[i]);
//   double bleu = stats.score().score;  // 0..100
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

/// The n-gram orders BLEU counts (sacreBLEU's default).
inline constexpr int kBleuOrder = 4;

/// mteval-v13a's tokenisation as sacreBLEU's "13a" applies it: `<skipped>` dropped, HTML
/// entities &quot; &amp; &lt; &gt; unescaped, ASCII punctuation split off, '.' and ',' split off
/// unless between digits, '-' split off after a digit, whitespace collapsed. UTF-8 in and out.
LMFORGE_API std::string tokenize_13a(std::string_view line);

/// The tokens of `line` split on whitespace as Python's str.split() splits (ASCII and Unicode
/// spaces).
LMFORGE_API std::vector<std::string> split_whitespace_like_python(std::string_view line);

struct LMFORGE_API BleuScore {
  double score = 0;            ///< 0..100
  double brevity_penalty = 0;  ///< exp(1 - ref/hyp) when the hypotheses are shorter, else 1
  std::array<double, kBleuOrder> precisions{};              ///< percent, smoothed as used
  std::array<std::int64_t, kBleuOrder> correct{}, total{};  ///< clipped matches, n-grams
  std::int64_t hypothesis_length = 0, reference_length = 0;
  /// sacreBLEU's one-line form: "BLEU = 33.45 66.7/40.0/25.0/14.3 (BP = 1.000 ratio = 1.000
  /// hyp_len = 7 ref_len = 7)".
  std::string format() const;
};

/// Sufficient statistics of corpus BLEU, added one line pair at a time.
class LMFORGE_API BleuStatistics {
 public:
  /// `tokenize` is "13a" or "none"; throws ConfigError otherwise.
  explicit BleuStatistics(const std::string& tokenize = "13a");
  /// Adds one hypothesis and its reference (trailing whitespace ignored, as sacreBLEU does).
  void add(std::string_view hypothesis, std::string_view reference);
  /// Adds already tokenised lines (no tokenisation applied).
  void add_tokens(const std::vector<std::string>& hypothesis,
                  const std::vector<std::string>& reference);
  BleuScore score() const;
  std::int64_t lines() const { return lines_; }

 private:
  std::vector<std::string> tokens(std::string_view line) const;

  bool tokenize_13a_;
  std::int64_t lines_ = 0;
  BleuScore sums_;
};

/// Corpus BLEU of `hypotheses` against `references` (same length; throws ConfigError naming both
/// counts otherwise).
LMFORGE_API BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                                  const std::vector<std::string>& references,
                                  const std::string& tokenize = "13a");

}  // namespace lmforge
