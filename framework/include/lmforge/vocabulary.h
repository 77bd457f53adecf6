#pragma once
// A token <-> id table. Ids 0..3 are always the special tokens below, so a vocabulary saved by one
// stage means the same thing to every later stage and to `lmforge generate`.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lmforge/export.h"

namespace lmforge {

class LMFORGE_API Vocabulary {
 public:
  static constexpr std::int64_t kPad = 0;
  static constexpr std::int64_t kUnk = 1;
  static constexpr std::int64_t kBos = 2;
  static constexpr std::int64_t kEos = 3;
  static constexpr const char* kPadToken = "<pad>";
  static constexpr const char* kUnkToken = "<unk>";
  static constexpr const char* kBosToken = "<bos>";
  static constexpr const char* kEosToken = "<eos>";

  /// Starts with the four special tokens.
  Vocabulary();

  /// Id of `token`, or kUnk when absent.
  std::int64_t id(std::string_view token) const;
  bool contains(std::string_view token) const;
  const std::string& token(std::int64_t id) const;
  std::int64_t size() const { return static_cast<std::int64_t>(tokens_.size()); }
  /// Adds `token` if new; returns its id either way.
  std::int64_t add(std::string_view token);
  /// Training-corpus frequency of each id (0 for specials unless counted); used by word2vec.
  const std::vector<std::int64_t>& counts() const { return counts_; }
  void set_count(std::int64_t id, std::int64_t count);

  /// One `token<TAB>count` per line, UTF-8, written atomically.
  void save(const std::string& path) const;
  /// Throws DataError naming the path and line on a malformed file.
  static Vocabulary load(const std::string& path);

  bool operator==(const Vocabulary& other) const { return tokens_ == other.tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, std::int64_t> index_;
};

}  // namespace lmforge
