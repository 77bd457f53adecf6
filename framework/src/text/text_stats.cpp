#include "lmforge/text_stats.h"

#include <cmath>
#include <cstdio>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "text/utf8.h"

namespace lmforge {
namespace {

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i >= first && i != 0 && (i - first) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string percent(double share) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * share);
  return buffer;
}

}  // namespace

double UnknownShare::share() const {
  return tokens == 0 ? 0.0 : static_cast<double>(unknown) / static_cast<double>(tokens);
}

void UnknownShare::add(const std::int64_t* ids, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t id = ids[i];
    if (id == Vocabulary::kPad || id == Vocabulary::kBos || id == Vocabulary::kEos) continue;
    ++tokens;
    unknown += id == Vocabulary::kUnk;
  }
}

void UnknownShare::add(const std::vector<std::int64_t>& ids) { add(ids.data(), ids.size()); }

UnknownShareReport report_unknown_share(const std::string& split, const UnknownShare& share,
                                        const std::string& reused_from, double warn_above) {
  UnknownShareReport report;
  report.line = split + ": " + percent(share.share()) + " of " + with_thousands(share.tokens) +
                " tokens are <unk>";
  if (share.tokens == 0 || share.share() <= warn_above) return report;
  report.warning = "warning: " + percent(share.share()) + " of the " + split +
                   " split's tokens are <unk> (above " + percent(warn_above) + "); ";
  if (!reused_from.empty()) {
    report.warning += "the vocabulary reused from '" + reused_from +
                      "' lacks this data's words: add `vocabulary: extend` to init (ULMFiT's "
                      "vocabulary transfer) or build this stage's own tokenizer";
  } else {
    report.warning +=
        "the vocabulary built on the training text does not cover this split: lower the "
        "tokenizer's min_count or raise max_size, or use a subword tokenizer (sentencepiece)";
  }
  return report;
}

std::int64_t count_characters(std::string_view text) {
  std::int64_t characters = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // ASCII is the common case; the decoder only sees the rest.
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
    } else {
      text::next_code_point(text, pos);
    }
    ++characters;
  }
  return characters;
}

double bits_per_character(double total_nats, std::int64_t characters) {
  if (characters <= 0) {
    throw Error("bits_per_character",
                "needs a positive number of characters, got " + std::to_string(characters));
  }
  return total_nats / static_cast<double>(characters) / std::log(2.0);
}

}  // namespace lmforge
