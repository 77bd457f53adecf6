#include "search.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"

namespace lmforge::seq2seq {
namespace {

constexpr double kNegativeInfinity = -std::numeric_limits<double>::infinity();

/// Log-probabilities [rows,V] of the next token after the last of `features`, with <pad> and
/// <bos> never chosen.
torch::Tensor next_log_probabilities(Head& head, const Features& features) {
  Features last{features.sequence.narrow(1, features.sequence.size(1) - 1, 1), {}, {}};
  auto logp = torch::log_softmax(head.forward(last).squeeze(1).to(torch::kFloat), -1);
  logp.select(1, Vocabulary::kPad).fill_(kNegativeInfinity);
  logp.select(1, Vocabulary::kBos).fill_(kNegativeInfinity);
  return logp;
}

/// Decoder features after `prefix` [rows,T]: one step from `cache` (updated), or the whole
/// prefix again without one.
Features step(Seq2SeqBody& body, const torch::Tensor& prefix, const torch::Tensor& memory,
              const torch::Tensor& mask, State& cache, bool use_cache) {
  if (!use_cache) return body.decode(prefix, memory, mask, {}, false);
  Features f = body.decode(prefix.narrow(1, prefix.size(1) - 1, 1), memory, mask, cache, true);
  cache = std::move(f.state);
  return f;
}

double penalised(double log_probability, std::size_t tokens, double length_penalty) {
  return log_probability / std::pow(static_cast<double>(tokens + 1), length_penalty);
}

}  // namespace

std::vector<std::int64_t> length_limits(const torch::Tensor& source_mask,
                                        const DecodeOptions& options, std::int64_t max_positions) {
  auto lengths = source_mask.to(torch::kCPU).sum(1).to(torch::kLong);
  std::vector<std::int64_t> limits;
  for (std::int64_t i = 0; i < lengths.size(0); ++i) {
    const double wanted =
        options.max_length_a * static_cast<double>(lengths[i].item<std::int64_t>()) +
        static_cast<double>(options.max_length_b);
    limits.push_back(
        std::clamp<std::int64_t>(static_cast<std::int64_t>(wanted), 1, max_positions - 1));
  }
  return limits;
}

std::vector<Hypothesis> greedy_search(Seq2SeqBody& body, Head& head, const torch::Tensor& source,
                                      const torch::Tensor& source_mask,
                                      const DecodeOptions& options, bool use_cache) {
  torch::NoGradGuard no_grad;
  const std::int64_t rows = source.size(0);
  const auto limits = length_limits(source_mask, options, body.max_positions());
  const std::int64_t longest = *std::max_element(limits.begin(), limits.end());
  auto memory = body.encode(source, source_mask);
  auto prefix = torch::full({rows, 1}, Vocabulary::kBos,
                            torch::TensorOptions().dtype(torch::kLong).device(source.device()));
  std::vector<Hypothesis> out(static_cast<std::size_t>(rows));
  std::vector<bool> done(static_cast<std::size_t>(rows), false);
  State cache;
  for (std::int64_t t = 0; t < longest; ++t) {
    auto logp =
        next_log_probabilities(head, step(body, prefix, memory, source_mask, cache, use_cache));
    for (std::int64_t r = 0; r < rows; ++r) {  // a sentence at its limit must end
      if (t + 1 >= limits[r]) {
        auto row = logp[r];
        const float eos = row[Vocabulary::kEos].item<float>();
        row.fill_(kNegativeInfinity);
        row[Vocabulary::kEos] = eos;
      }
    }
    auto [best_logp, best] = logp.max(1);
    auto best_cpu = best.to(torch::kCPU);
    auto logp_cpu = best_logp.to(torch::kCPU, torch::kDouble);
    bool all_done = true;
    for (std::int64_t r = 0; r < rows; ++r) {
      if (done[r]) {
        best_cpu[r] = Vocabulary::kPad;
        continue;
      }
      const std::int64_t token = best_cpu[r].item<std::int64_t>();
      out[r].log_probability += logp_cpu[r].item<double>();
      if (token == Vocabulary::kEos) {
        done[r] = true;
      } else {
        out[r].tokens.push_back(token);
        all_done = false;
      }
    }
    if (all_done) break;
    prefix = torch::cat({prefix, best_cpu.to(source.device()).unsqueeze(1)}, 1);
  }
  for (auto& h : out)
    h.score = penalised(h.log_probability, h.tokens.size(), options.length_penalty);
  return out;
}

std::vector<Hypothesis> beam_search(Seq2SeqBody& body, Head& head, const torch::Tensor& source,
                                    const torch::Tensor& source_mask,
                                    const DecodeOptions& options) {
  if (options.beam < 1)
    throw ConfigError("beam", "must be at least 1, got " + std::to_string(options.beam));
  torch::NoGradGuard no_grad;
  const std::int64_t sentences = source.size(0), beam = options.beam;
  const auto limits = length_limits(source_mask, options, body.max_positions());
  const std::int64_t longest = *std::max_element(limits.begin(), limits.end());
  const auto device = source.device();
  // Every sentence's memory once, then repeated for its beams (row s*beam + k).
  auto memory = body.encode(source, source_mask).repeat_interleave(beam, 0);
  auto mask = source_mask.repeat_interleave(beam, 0);
  auto prefix = torch::full({sentences * beam, 1}, Vocabulary::kBos,
                            torch::TensorOptions().dtype(torch::kLong).device(device));
  // Only beam 0 is live at the start, so the first step does not pick one token `beam` times.
  std::vector<double> scores(static_cast<std::size_t>(sentences * beam), kNegativeInfinity);
  for (std::int64_t s = 0; s < sentences; ++s) scores[s * beam] = 0;
  std::vector<std::vector<std::int64_t>> tokens(static_cast<std::size_t>(sentences * beam));
  std::vector<std::vector<Hypothesis>> finished(static_cast<std::size_t>(sentences));
  std::vector<bool> done(static_cast<std::size_t>(sentences), false);
  State cache;
  for (std::int64_t t = 0; t < longest; ++t) {
    auto logp = next_log_probabilities(head, step(body, prefix, memory, mask, cache, true))
                    .to(torch::kCPU, torch::kDouble);
    const std::int64_t vocab = logp.size(1);
    for (std::int64_t s = 0; s < sentences; ++s) {  // a sentence at its limit must end
      if (t + 1 < limits[s]) continue;
      auto rows = logp.narrow(0, s * beam, beam);
      auto eos = rows.select(1, Vocabulary::kEos).clone();
      rows.fill_(kNegativeInfinity);
      rows.select(1, Vocabulary::kEos).copy_(eos);
    }
    auto total = logp + torch::tensor(scores, torch::kDouble).unsqueeze(1);
    auto [top_scores, top_index] =
        total.view({sentences, beam * vocab}).topk(std::min(2 * beam, beam * vocab), 1);
    std::vector<std::int64_t> source_rows, next_tokens;
    std::vector<double> next_scores;
    std::vector<std::vector<std::int64_t>> next_prefixes;
    auto top_score = top_scores.accessor<double, 2>();
    auto top_flat = top_index.accessor<std::int64_t, 2>();
    for (std::int64_t s = 0; s < sentences; ++s) {
      std::int64_t kept = 0;
      for (std::int64_t c = 0; c < top_index.size(1) && kept < beam && !done[s]; ++c) {
        const double score = top_score[s][c];
        if (score == kNegativeInfinity) break;
        const std::int64_t flat = top_flat[s][c];
        const std::int64_t row = s * beam + flat / vocab, token = flat % vocab;
        if (token == Vocabulary::kEos) {
          Hypothesis h;
          h.tokens = tokens[row];
          h.log_probability = score;
          h.score = penalised(score, h.tokens.size(), options.length_penalty);
          finished[s].push_back(std::move(h));
          if (static_cast<std::int64_t>(finished[s].size()) >= beam) done[s] = true;
          continue;
        }
        source_rows.push_back(row);
        next_tokens.push_back(token);
        next_scores.push_back(score);
        auto p = tokens[row];
        p.push_back(token);
        next_prefixes.push_back(std::move(p));
        ++kept;
      }
      if (t + 1 >= limits[s]) done[s] = true;
      // A finished sentence (or one short of live beams) fills its rows with dead copies.
      while (kept < beam) {
        source_rows.push_back(s * beam);
        next_tokens.push_back(Vocabulary::kPad);
        next_scores.push_back(kNegativeInfinity);
        next_prefixes.emplace_back();
        ++kept;
      }
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    auto index = torch::tensor(source_rows, torch::kLong).to(device);
    for (auto& c : cache) c = c.index_select(0, index);
    prefix = torch::cat({prefix.index_select(0, index),
                         torch::tensor(next_tokens, torch::kLong).to(device).unsqueeze(1)},
                        1);
    scores = std::move(next_scores);
    tokens = std::move(next_prefixes);
  }
  std::vector<Hypothesis> best(static_cast<std::size_t>(sentences));
  for (std::int64_t s = 0; s < sentences; ++s) {
    if (finished[s].empty()) continue;  // unreachable: the limit forces <eos> on every beam
    best[s] = *std::max_element(
        finished[s].begin(), finished[s].end(),
        [](const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; });
  }
  return best;
}

}  // namespace lmforge::seq2seq
