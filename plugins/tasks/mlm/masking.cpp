#include "masking.h"

#include <torch/torch.h>

#include <string>

namespace lmforge::mlm {
namespace {

constexpr const char* kWordStart = "\xE2\x96\x81";  // U+2581, sentencepiece's word boundary

bool starts_word(const std::string& piece) { return piece.rfind(kWordStart, 0) == 0; }

// Uniform in [0, 1) from 53 random bits: the same numbers with every standard library, unlike
// std::uniform_real_distribution, so a seed masks the same tokens everywhere.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

bool has_word_pieces(const Vocabulary& vocabulary) {
  for (std::int64_t id = Vocabulary::kEos + 1; id < vocabulary.size(); ++id) {
    if (starts_word(vocabulary.token(id))) return true;
  }
  return false;
}

Masker::Masker(const MaskingRule& rule, const Vocabulary& vocabulary, std::int64_t mask_id)
    : rule_(rule), mask_id_(mask_id) {
  const auto size = static_cast<std::size_t>(vocabulary.size());
  maskable_.assign(size, 1);
  continues_word_.assign(size, 0);
  for (std::int64_t id :
       {Vocabulary::kPad, Vocabulary::kUnk, Vocabulary::kBos, Vocabulary::kEos, mask_id}) {
    maskable_[static_cast<std::size_t>(id)] = 0;
  }
  for (std::size_t id = 0; id < size; ++id) {
    if (!maskable_[id]) continue;
    random_pool_.push_back(static_cast<std::int64_t>(id));
    // Byte pieces and punctuation without "▁" also continue the word before them: a word is
    // what whitespace delimits.
    if (rule.whole_word) {
      continues_word_[id] = !starts_word(vocabulary.token(static_cast<std::int64_t>(id)));
    }
  }
}

bool Masker::maskable(std::int64_t id) const {
  return id >= 0 && id < static_cast<std::int64_t>(maskable_.size()) &&
         maskable_[static_cast<std::size_t>(id)];
}

bool Masker::continues_word(std::int64_t id) const {
  return maskable(id) && continues_word_[static_cast<std::size_t>(id)];
}

MaskedBatch Masker::apply(const torch::Tensor& tokens, std::mt19937_64& rng) const {
  MaskedBatch batch;
  batch.input = tokens.clone();
  batch.targets = torch::full_like(tokens, kIgnore);
  auto input = batch.input.accessor<std::int64_t, 2>();
  auto targets = batch.targets.accessor<std::int64_t, 2>();
  const std::int64_t rows = tokens.size(0), width = tokens.size(1);

  // A unit is one token, or with whole words a word's pieces: [begin, end) of one row. Units
  // never cross a special token or a row.
  struct Unit {
    std::int64_t row, begin, end;
  };
  std::vector<Unit> units;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t t = 0; t < width; ++t) {
      const std::int64_t id = input[r][t];
      if (!maskable(id)) continue;
      const bool extends =
          continues_word(id) && !units.empty() && units.back().row == r && units.back().end == t;
      if (extends) {
        units.back().end = t + 1;
      } else {
        units.push_back({r, t, t + 1});
      }
    }
  }
  auto corrupt = [&](const Unit& unit) {
    for (std::int64_t t = unit.begin; t < unit.end; ++t) {
      targets[unit.row][t] = input[unit.row][t];
      ++batch.chosen;
      const double u = uniform(rng);
      if (u < rule_.mask_token) {
        input[unit.row][t] = mask_id_;
      } else if (u < rule_.mask_token + rule_.random_token && !random_pool_.empty()) {
        input[unit.row][t] = random_pool_[rng() % random_pool_.size()];
      }
    }
  };
  for (const Unit& unit : units) {
    if (uniform(rng) < rule_.rate) corrupt(unit);
  }
  // A batch without a chosen token would have no loss at all (0/0); one unit is enough.
  if (batch.chosen == 0 && !units.empty()) corrupt(units[rng() % units.size()]);
  return batch;
}

}  // namespace lmforge::mlm
