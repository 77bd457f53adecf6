#pragma once
// fastText's subword units (Bojanowski et al. 2017): besides its own row, a word owns the rows of
// its character n-grams, hashed into a fixed number of buckets, so a word never seen in training
// still has a vector (the mean of its n-gram rows). As in fastText, the word is wrapped in the
// boundary markers '<' and '>' first, so "<wh" (a prefix) and "wh" (inside a word) differ.
//
// N-grams are counted in code points, not bytes: a Korean syllable (3 bytes of UTF-8) is one
// character, never split. The hash is 32-bit FNV-1a over the n-gram's UTF-8 bytes. (fastText
// sign-extends each byte before the xor, so its buckets equal these for ASCII n-grams only; the
// two tools never share a table, so the standard hash is used.)
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lmforge/export.h"

namespace lmforge::subwords {

/// Longest n-gram the options accept (fastText's maxn is usually 6).
constexpr std::int64_t kLongestNgram = 32;

/// 32-bit FNV-1a of `bytes`: offset basis 2166136261, prime 16777619.
LMFORGE_API std::uint32_t fnv1a(std::string_view bytes);

/// The character n-grams of `word` as fastText forms them: every run of min_n..max_n code points
/// of "<word>", by start position then length, repeats kept, except '<' or '>' on its own.
/// "where", 3..4: <wh, <whe, whe, wher, her, here, ere, ere>, re>.
LMFORGE_API std::vector<std::string> character_ngrams(std::string_view word, std::int64_t min_n,
                                                      std::int64_t max_n);

/// Appends the bucket of each of `character_ngrams(word, min_n, max_n)` (fnv1a % buckets), in the
/// same order, to `rows` without building the strings.
LMFORGE_API void ngram_buckets(std::string_view word, std::int64_t min_n, std::int64_t max_n,
                               std::int64_t buckets, std::vector<std::int32_t>& rows);

}  // namespace lmforge::subwords
