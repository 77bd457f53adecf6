#pragma once
// Sentence pairs from ONE tab-separated file (a question/answer set such as ko-chatbot's
// "Q<TAB>A<TAB>label"), the alternative to two line-aligned files, and the seeded split of such
// a file into train / valid / test rows.
#include <cstdint>
#include <string>
#include <vector>

namespace lmforge::seq2seq {

/// Where the two sides of a pair are: `columns` holds two entries, source first. An entry that
/// is a header name makes the first line a header (and must be one of its names); an entry of
/// digits only is a 0-based index. With indices only, the first line is data unless `header`.
struct PairColumns {
  std::vector<std::string> columns;
  bool header = false;
};

/// The pairs of a file in file order, each with the line it came from (1-based).
struct PairRows {
  std::vector<std::string> sources, targets;
  std::vector<std::int64_t> lines;
};

/// Reads `path` (decoded from `encoding`). Throws ConfigError at `place` naming `option` for a
/// malformed `columns`, DataError at "path:1" for a name the header lacks (listing the header's
/// names) and at "path:line" for a row with too few fields. Blank lines are skipped.
PairRows read_pair_file(const std::string& path, const std::string& encoding,
                        const PairColumns& columns, const std::string& option,
                        const std::string& place);

/// Rows 0..count-1 dealt into test, valid and train by a shuffle seeded with `seed` (so a file
/// sorted by some label still puts every label into every split): round(count * fraction) rows
/// each for test and valid, the rest for train; each list in file order, the three disjoint.
struct HeldOutSplit {
  std::vector<std::int64_t> train, valid, test;
};
HeldOutSplit split_rows(std::int64_t count, double valid_fraction, double test_fraction,
                        std::uint64_t seed);

}  // namespace lmforge::seq2seq
