#pragma once
// GPT-2's byte-level BPE, loaded from a Hugging Face tokenizer's vocab.json and merges.txt, so an
// imported GPT-2 (`lmforge import hf-gpt2`) reads text exactly as `transformers` does. Text is cut
// by GPT-2's pattern (contractions, letters, digits, other symbols, spaces; ICU's regular
// expressions), each piece's UTF-8 bytes are spelled as printable characters (bytes 0-255 onto
// code points, GPT-2's table), and the merges join them by rank. Any text encodes: there is no
// unknown byte.
//
// lmforge's four specials keep ids 0..3, so the file's token i is vocabulary id i + 4. Both files
// are attached to the vocabulary (vocab.gpt2.vocab.json, vocab.gpt2.merges.txt beside a stage's
// vocab.txt), so every later stage, generate and predict reload the same tokenizer.
//
// Example: tokenizer: {type: gpt2_bpe, vocab: gpt2/vocab.json, merges: gpt2/merges.txt}
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lmforge/options.h"
#include "lmforge/registry.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

struct Gpt2BpeOptions {
  /// The tokenizer's vocab.json (token -> id).
  std::string vocab;
  /// The tokenizer's merges.txt (one "a b" merge per line, highest priority first).
  std::string merges;
  void visit(OptionVisitor& v) {
    v.field("vocab", vocab, "GPT-2 vocab.json (token -> id), e.g. a Hugging Face tokenizer's");
    v.field("merges", merges, "GPT-2 merges.txt (one merge per line, by priority)");
  }
};

class Gpt2BpeTokenizer : public Tokenizer {
 public:
  using Options = Gpt2BpeOptions;
  Gpt2BpeTokenizer(const Options& options, const NoContext& context);

  /// The byte-level tokens of `text`, as vocab.json spells them.
  std::vector<std::string> split(std::string_view text) const override;
  /// The original UTF-8 text back from byte-level tokens.
  std::string join(const std::vector<std::string>& tokens) const override;
  /// Nothing is learned from the corpus: the vocabulary is the files'.
  void count(std::string_view) override {}
  void build_vocabulary() override;
  /// Restores the merges attached to `vocab`; throws DataError when they are missing.
  void set_vocabulary(Vocabulary vocab) override;

  static constexpr const char* kVocabAttachment = "gpt2.vocab.json";
  static constexpr const char* kMergesAttachment = "gpt2.merges.txt";

 private:
  void load_merges(const std::string& text, const std::string& what);
  std::vector<std::string> merge(const std::string& piece) const;

  Options options_;
  std::map<std::pair<std::string, std::string>, std::size_t> ranks_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace lmforge
