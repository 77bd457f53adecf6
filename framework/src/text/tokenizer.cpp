#include "lmforge/tokenizer.h"

#include <algorithm>
#include <string>

#include "lmforge/error.h"

namespace lmforge {

void VocabularyOptions::visit(OptionVisitor& v) {
  v.field("min_count", min_count,
          "tokens seen fewer times than this in the training text are not added to the "
          "vocabulary and become <unk>")
      .positive();
  v.field("max_size", max_size,
          "keep at most this many tokens besides the four specials (<pad>, <unk>, <bos>, <eos>), "
          "most frequent first, ties by first appearance; 0 = no limit")
      .non_negative();
}

void Tokenizer::count(std::string_view text) {
  for (std::string& token : split(text)) {
    auto [it, inserted] = pending_counts_.try_emplace(std::move(token), 0);
    if (inserted) first_seen_order_.push_back(it->first);
    ++it->second;
  }
}

void Tokenizer::build_vocabulary() {
  // Options normally pass the recipe's checks; this catches a tokenizer built directly in C++.
  if (vocab_options_.min_count < 1) {
    throw ConfigError("min_count", "must be >= 1, got " + std::to_string(vocab_options_.min_count));
  }
  if (vocab_options_.max_size < 0) {
    throw ConfigError(
        "max_size", "must be >= 0 (0 = no limit), got " + std::to_string(vocab_options_.max_size));
  }

  Vocabulary vocab;
  // Tokens that will be encoded as <unk> count towards <unk>, so that counts() is the frequency
  // of each id in the encoded training corpus (what word2vec's sampling tables need).
  std::int64_t unk_count = 0;
  struct Candidate {
    const std::string* token;
    std::int64_t count;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(first_seen_order_.size());
  for (const std::string& token : first_seen_order_) {
    const std::int64_t count = pending_counts_.at(token);
    if (vocab.contains(token)) {  // a special written in the text, e.g. WikiText's <unk>
      const std::int64_t id = vocab.id(token);
      if (id == Vocabulary::kUnk) {
        unk_count += count;
      } else {
        vocab.set_count(id, count);
      }
    } else if (count >= vocab_options_.min_count) {
      candidates.push_back({&token, count});
    } else {
      unk_count += count;
    }
  }
  // Stable, so equal counts keep first-appearance order and the vocabulary is reproducible.
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.count > b.count; });
  const auto limit = static_cast<std::size_t>(vocab_options_.max_size);
  if (limit > 0 && candidates.size() > limit) {
    for (std::size_t i = limit; i < candidates.size(); ++i) unk_count += candidates[i].count;
    candidates.resize(limit);
  }
  for (const Candidate& c : candidates) vocab.set_count(vocab.add(*c.token), c.count);
  vocab.set_count(Vocabulary::kUnk, unk_count);
  vocab_ = std::move(vocab);
}

std::vector<std::int64_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::string> tokens = split(text);
  std::vector<std::int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& token : tokens) ids.push_back(vocab_.id(token));
  return ids;
}

std::string Tokenizer::decode(const std::vector<std::int64_t>& ids) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (std::int64_t id : ids) {
    if (id == Vocabulary::kPad || id == Vocabulary::kBos || id == Vocabulary::kEos) continue;
    tokens.push_back(vocab_.token(id));
  }
  return join(tokens);
}

}  // namespace lmforge
