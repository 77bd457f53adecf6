#pragma once
// A token <-> id table. Ids 0..3 are always the special tokens below, so a vocabulary saved by one
// stage means the same thing to every later stage and to `lmforge generate`.
#include <cstdint>
#include <map>
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

  /// One `token<TAB>count` per line, UTF-8, written atomically; each attachment beside it as
  /// `<stem>.<name>` (vocab.txt's `sentencepiece.model` is vocab.sentencepiece.model).
  void save(const std::string& path) const;
  /// Throws DataError naming the path and line on a malformed file. Attachments are read when
  /// first asked for (`load_attachment`), from beside `path`.
  static Vocabulary load(const std::string& path);

  /// Files that belong to the tokenizer behind this vocabulary (a sentencepiece model, a stop-word
  /// list) and must travel with it: whatever saves and reloads a vocabulary (a stage's vocab.txt,
  /// `init: {parts: [tokenizer]}`, generate, predict, embed) then reloads the whole tokenizer.
  /// `name` is lowercase letters, digits, '.', '_' and '-'; throws Error otherwise.
  void attach(const std::string& name, std::string bytes);
  /// The attachment `name` if it is in memory, else null.
  const std::string* attachment(const std::string& name) const;
  /// The attachment `name`, read (once) from beside the file this vocabulary was loaded from when
  /// it is not in memory; null when there is no such attachment.
  const std::string* load_attachment(const std::string& name);
  /// Where an attachment of a vocabulary saved at `vocab_path` lives.
  static std::string attachment_path(const std::string& vocab_path, const std::string& name);

  bool operator==(const Vocabulary& other) const { return tokens_ == other.tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, std::int64_t> index_;
  std::map<std::string, std::string> attachments_;
  std::string loaded_from_;  // the file `load` read, so attachments can follow lazily
};

}  // namespace lmforge
