#include "lmforge/subwords.h"

namespace lmforge::subwords {
namespace {

constexpr std::uint32_t kFnvBasis = 2166136261u;
constexpr std::uint32_t kFnvPrime = 16777619u;

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Calls emit(begin, end, hash) for each n-gram of "<word>" in fastText's order. The hash grows one
// code point at a time (FNV-1a is a running hash), so no n-gram is hashed twice.
template <class Emit>
void for_each_ngram(std::string_view word, std::int64_t min_n, std::int64_t max_n, Emit emit) {
  std::string bracketed;
  bracketed.reserve(word.size() + 2);
  bracketed += '<';
  bracketed += word;
  bracketed += '>';
  const std::size_t size = bracketed.size();
  for (std::size_t begin = 0; begin < size; ++begin) {
    if (continuation_byte(bracketed[begin])) continue;
    std::uint32_t hash = kFnvBasis;
    std::size_t end = begin;
    for (std::int64_t n = 1; end < size && n <= max_n; ++n) {
      do {
        hash = (hash ^ static_cast<unsigned char>(bracketed[end])) * kFnvPrime;
        ++end;
      } while (end < size && continuation_byte(bracketed[end]));
      // A lone boundary marker says nothing about the word.
      const bool lone_marker = n == 1 && (begin == 0 || end == size);
      if (n >= min_n && !lone_marker)
        emit(std::string_view(bracketed).substr(begin, end - begin), hash);
    }
  }
}

}  // namespace

std::uint32_t fnv1a(std::string_view bytes) {
  std::uint32_t hash = kFnvBasis;
  for (char c : bytes) hash = (hash ^ static_cast<unsigned char>(c)) * kFnvPrime;
  return hash;
}

std::vector<std::string> character_ngrams(std::string_view word, std::int64_t min_n,
                                          std::int64_t max_n) {
  std::vector<std::string> ngrams;
  for_each_ngram(word, min_n, max_n,
                 [&](std::string_view ngram, std::uint32_t) { ngrams.emplace_back(ngram); });
  return ngrams;
}

void ngram_buckets(std::string_view word, std::int64_t min_n, std::int64_t max_n,
                   std::int64_t buckets, std::vector<std::int32_t>& rows) {
  const auto modulus = static_cast<std::uint32_t>(buckets);
  for_each_ngram(word, min_n, max_n, [&](std::string_view, std::uint32_t hash) {
    rows.push_back(static_cast<std::int32_t>(hash % modulus));
  });
}

}  // namespace lmforge::subwords
