#pragma once
// BERT's token corruption (Devlin et al. 2019, section 3.1): a share of the maskable tokens is
// chosen for prediction; of those, most are replaced by <mask>, some by a random token and the
// rest left as they are, so the model cannot tell from the input which tokens it will be asked
// about. With whole words, every piece of a chosen word is chosen with it (Google's whole-word
// masking; a word starts at a sentencepiece piece beginning with "▁").
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "lmforge/vocabulary.h"

namespace lmforge::mlm {

/// Targets at positions outside the loss (the heads' ignore index).
inline constexpr std::int64_t kIgnore = -100;

struct MaskingRule {
  double rate = 0.15;         ///< share of maskable tokens chosen for prediction
  double mask_token = 0.8;    ///< of the chosen, replaced by <mask>
  double random_token = 0.1;  ///< of the chosen, replaced by a random token (the rest unchanged)
  bool whole_word = false;    ///< choose whole words of subword pieces together
};

/// One corrupted batch: the model reads `input` and is scored on `targets` (the original token at
/// chosen positions, kIgnore elsewhere).
struct MaskedBatch {
  torch::Tensor input;    ///< [B,T] int64
  torch::Tensor targets;  ///< [B,T] int64
  std::int64_t chosen = 0;
};

class Masker {
 public:
  /// `mask_id` is the vocabulary's <mask>. Specials (<pad>, <unk>, <bos>, <eos>, <mask>) are never
  /// chosen and never drawn as random replacements.
  Masker(const MaskingRule& rule, const Vocabulary& vocabulary, std::int64_t mask_id);

  /// Corrupts `tokens` ([B,T] int64 on the CPU) with random numbers from `rng`. Every batch with a
  /// maskable token gets at least one chosen unit, so its loss is defined.
  MaskedBatch apply(const torch::Tensor& tokens, std::mt19937_64& rng) const;

  /// Whether `id` may be chosen.
  bool maskable(std::int64_t id) const;
  /// Whether `id` continues the word of the piece before it (whole-word masking only).
  bool continues_word(std::int64_t id) const;
  std::int64_t mask_id() const { return mask_id_; }

 private:
  MaskingRule rule_;
  std::int64_t mask_id_;
  std::vector<char> maskable_;        // by id
  std::vector<char> continues_word_;  // by id
  std::vector<std::int64_t> random_pool_;
};

/// Whether `vocabulary` is made of sentencepiece-style pieces (some begin with "▁"): then words
/// span several tokens and whole-word masking applies.
bool has_word_pieces(const Vocabulary& vocabulary);

}  // namespace lmforge::mlm
