#include "lmforge/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "lmforge/error.h"

namespace lmforge {
namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
    text.replace(at, from.size(), to);
    at += to.size();
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// mteval's first rule, `[\{-\~\[-\` -\&\(-\+\:-\@\/]`: the ASCII punctuation split off
/// everywhere (everything but letters, digits, '\'', ',', '-' and '.').
bool is_split_symbol(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

// The three context rules are Python re.sub passes: a left-to-right scan of non-overlapping
// two-character matches. Working on UTF-8 bytes gives the same result, because every pattern
// byte is ASCII and `[^0-9]` only ever has to reject digits (a multi-byte character is never a
// digit, and its continuation bytes never match '.', ',' or '-').

/// `([^0-9])([\.,])` -> `\1 \2 `
std::string split_period_after_non_digit(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && !is_digit(s[i]) && (s[i + 1] == '.' || s[i + 1] == ',')) {
      out += s[i];
      out += ' ';
      out += s[i + 1];
      out += ' ';
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

/// `([\.,])([^0-9])` -> ` \1 \2`
std::string split_period_before_non_digit(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && !is_digit(s[i + 1])) {
      out += ' ';
      out += s[i];
      out += ' ';
      out += s[i + 1];
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

/// `([0-9])(-)` -> `\1 \2 `
std::string split_dash_after_digit(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 16);
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && is_digit(s[i]) && s[i + 1] == '-') {
      out += s[i];
      out += " - ";
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

/// Length in bytes of the whitespace character at `s[i]` as Python's str.isspace() sees it (0
/// when it is none): ASCII \t\n\v\f\r, \x1c-\x1f and space, and the Unicode spaces U+0085,
/// U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
std::size_t space_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
  if (c == 0xc2 && i + 1 < s.size() && (b(1) == 0x85 || b(1) == 0xa0)) return 2;
  if (i + 2 >= s.size()) return 0;
  if (c == 0xe1 && b(1) == 0x9a && b(2) == 0x80) return 3;
  if (c == 0xe2 && b(1) == 0x80 && (b(2) <= 0x8a || b(2) == 0xa8 || b(2) == 0xa9 || b(2) == 0xaf))
    return 3;
  if (c == 0xe2 && b(1) == 0x81 && b(2) == 0x9f) return 3;
  if (c == 0xe3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}

/// Python's str.rstrip(): trailing whitespace removed.
std::string_view rstrip(std::string_view s) {
  std::size_t end = s.size();
  for (;;) {
    std::size_t found = 0;
    // A space is 1 to 3 bytes long; try each length that could end at `end`.
    for (std::size_t n = 1; n <= 3 && n <= end; ++n) {
      if (space_length(s.substr(0, end), end - n) == n) {
        found = n;
        break;
      }
    }
    if (found == 0) return s.substr(0, end);
    end -= found;
  }
}

using Ngram = std::vector<std::string>;

std::map<Ngram, std::int64_t> count_ngrams(const std::vector<std::string>& tokens) {
  std::map<Ngram, std::int64_t> counts;
  const auto length = static_cast<std::int64_t>(tokens.size());
  for (std::int64_t n = 1; n <= kBleuOrder; ++n) {
    for (std::int64_t i = 0; i + n <= length; ++i) {
      ++counts[Ngram(tokens.begin() + i, tokens.begin() + i + n)];
    }
  }
  return counts;
}

}  // namespace

std::vector<std::string> split_whitespace_like_python(std::string_view line) {
  std::vector<std::string> tokens;
  std::string current;
  std::size_t i = 0;
  while (i < line.size()) {
    const std::size_t space = space_length(line, i);
    if (space > 0) {
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
      i += space;
    } else {
      current += line[i++];
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

std::string tokenize_13a(std::string_view line) {
  std::string s(line);
  replace_all(s, "<skipped>", "");
  replace_all(s, "-\n", "");
  replace_all(s, "\n", " ");
  if (s.find('&') != std::string::npos) {
    replace_all(s, "&quot;", "\"");
    replace_all(s, "&amp;", "&");
    replace_all(s, "&lt;", "<");
    replace_all(s, "&gt;", ">");
  }
  std::string spaced;
  spaced.reserve(s.size() + 16);
  spaced += ' ';
  for (char c : s) {
    if (is_split_symbol(c)) {
      spaced += ' ';
      spaced += c;
      spaced += ' ';
    } else {
      spaced += c;
    }
  }
  spaced += ' ';
  spaced =
      split_dash_after_digit(split_period_before_non_digit(split_period_after_non_digit(spaced)));
  std::string out;
  for (const auto& token : split_whitespace_like_python(spaced)) {
    if (!out.empty()) out += ' ';
    out += token;
  }
  return out;
}

std::string BleuScore::format() const {
  char text[256];
  std::snprintf(text, sizeof(text),
                "BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %lld ref_len = "
                "%lld)",
                score, precisions[0], precisions[1], precisions[2], precisions[3], brevity_penalty,
                reference_length > 0
                    ? static_cast<double>(hypothesis_length) / static_cast<double>(reference_length)
                    : 0.0,
                static_cast<long long>(hypothesis_length),
                static_cast<long long>(reference_length));
  return text;
}

BleuStatistics::BleuStatistics(const std::string& tokenize) : tokenize_13a_(tokenize == "13a") {
  if (tokenize != "13a" && tokenize != "none") {
    throw ConfigError("bleu", "tokenize must be '13a' or 'none', got '" + tokenize + "'");
  }
}

std::vector<std::string> BleuStatistics::tokens(std::string_view line) const {
  line = rstrip(line);
  return split_whitespace_like_python(tokenize_13a_ ? tokenize_13a(line) : std::string(line));
}

void BleuStatistics::add(std::string_view hypothesis, std::string_view reference) {
  add_tokens(tokens(hypothesis), tokens(reference));
}

void BleuStatistics::add_tokens(const std::vector<std::string>& hypothesis,
                                const std::vector<std::string>& reference) {
  ++lines_;
  sums_.hypothesis_length += static_cast<std::int64_t>(hypothesis.size());
  sums_.reference_length += static_cast<std::int64_t>(reference.size());
  const auto reference_counts = count_ngrams(reference);
  for (const auto& [ngram, count] : count_ngrams(hypothesis)) {
    const std::size_t order = ngram.size() - 1;
    sums_.total[order] += count;
    auto match = reference_counts.find(ngram);
    if (match != reference_counts.end()) sums_.correct[order] += std::min(count, match->second);
  }
}

BleuScore BleuStatistics::score() const {
  BleuScore s = sums_;
  s.brevity_penalty = 1.0;
  if (s.hypothesis_length < s.reference_length) {
    s.brevity_penalty = s.hypothesis_length > 0
                            ? std::exp(1.0 - static_cast<double>(s.reference_length) /
                                                 static_cast<double>(s.hypothesis_length))
                            : 0.0;
  }
  s.precisions.fill(0.0);
  s.score = 0.0;
  // sacreBLEU returns 0 outright when nothing matches at all.
  if (std::all_of(s.correct.begin(), s.correct.end(), [](std::int64_t c) { return c == 0; })) {
    return s;
  }
  double smooth = 1.0;
  for (int n = 0; n < kBleuOrder; ++n) {
    if (s.total[n] == 0) break;  // later orders stay 0: log(0) below makes the score 0
    if (s.correct[n] == 0) {
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * static_cast<double>(s.total[n]));
    } else {
      s.precisions[n] = 100.0 * static_cast<double>(s.correct[n]) / static_cast<double>(s.total[n]);
    }
  }
  double log_sum = 0.0;
  for (double p : s.precisions) log_sum += p > 0 ? std::log(p) : -9999999999.0;  // sacreBLEU's
  s.score = s.brevity_penalty * std::exp(log_sum / kBleuOrder);
  return s;
}

BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references, const std::string& tokenize) {
  if (hypotheses.size() != references.size()) {
    throw ConfigError("bleu", std::to_string(hypotheses.size()) + " hypotheses but " +
                                  std::to_string(references.size()) +
                                  " references; BLEU needs one reference per hypothesis");
  }
  BleuStatistics stats(tokenize);
  for (std::size_t i = 0; i < hypotheses.size(); ++i) stats.add(hypotheses[i], references[i]);
  return stats.score();
}

}  // namespace lmforge
