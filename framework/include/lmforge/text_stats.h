#pragma once
// Figures about encoded text that every task reports the same way, so a user can trust them across
// tasks and tokenizers:
//  - the share of tokens that became <unk>, per split, with a warning when a reused vocabulary
//    does not cover the data (the quickstart's 76-word vocabulary turned TREC into <unk>s and
//    nothing said so);
//  - bits per character of the original text, the one LM figure that compares word, syllable and
//    subword models of the same text (perplexities are per token, and tokens differ).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

/// How many of a split's tokens are <unk>.
struct LMFORGE_API UnknownShare {
  std::int64_t tokens = 0;   ///< all tokens of the split (specials such as <eos> excluded)
  std::int64_t unknown = 0;  ///< of which <unk>
  /// unknown / tokens, 0 for an empty split.
  double share() const;
  /// Adds the ids of one text (<pad>, <bos> and <eos> are not counted as tokens).
  void add(const std::vector<std::int64_t>& ids);
  void add(const std::int64_t* ids, std::size_t count);
};

/// What to say about the <unk> share.
struct LMFORGE_API UnknownShareReport {
  /// The one-line report, e.g. "train: 4.8% of 929,589 tokens are <unk>".
  std::string line;
  /// Non-empty when the share is above the threshold: what is wrong and what to do about it.
  std::string warning;
};

/// Default threshold above which a split's <unk> share is worth a warning.
inline constexpr double kUnknownShareWarning = 0.10;

/// `split`'s report. `reused_from` names the stage whose vocabulary this one reuses (init: {parts:
/// [tokenizer]}), empty when the vocabulary was built on this stage's own training data; the
/// warning then points to `vocabulary: extend` or `min_count` as the fix.
LMFORGE_API UnknownShareReport report_unknown_share(const std::string& split,
                                                    const UnknownShare& share,
                                                    const std::string& reused_from = "",
                                                    double warn_above = kUnknownShareWarning);

/// Unicode characters (code points) in UTF-8 `text`; an ill-formed sequence counts as the one
/// U+FFFD it decodes to.
LMFORGE_API std::int64_t count_characters(std::string_view text);

/// Bits per character: the total cross-entropy of a text in nats divided by its characters and by
/// ln 2. For a language model reading lines with one <eos> each, count each line's characters
/// plus one for its line break (what <eos> predicts), so the figure is per character of the file.
/// Throws Error when `characters` is not positive.
LMFORGE_API double bits_per_character(double total_nats, std::int64_t characters);

}  // namespace lmforge
