#pragma once
// Decoding for Seq2SeqBody models: greedy and beam search, batched over sentences. The encoder
// runs once per sentence; the decoder reads one new token per step from its key/value cache
// (or, with `use_cache: false`, re-reads the whole prefix: the slow reference the tests compare
// the cache against).
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "lmforge/head.h"
#include "lmforge/seq2seq.h"

namespace lmforge::seq2seq {

struct Hypothesis {
  std::vector<std::int64_t> tokens;  ///< without <bos>, without the final <eos>
  double log_probability = 0;        ///< sum over the tokens and the <eos>
  double score = 0;                  ///< log_probability / (tokens + 1)^length_penalty
};

/// Target length limit of each sentence: max_length_a * source tokens + max_length_b, at most
/// the body's positions minus the <bos>.
std::vector<std::int64_t> length_limits(const torch::Tensor& source_mask,
                                        const DecodeOptions& options, std::int64_t max_positions);

/// The most probable next token at every step. source [B,S], mask [B,S] bool.
std::vector<Hypothesis> greedy_search(Seq2SeqBody& body, Head& head, const torch::Tensor& source,
                                      const torch::Tensor& source_mask,
                                      const DecodeOptions& options, bool use_cache = true);

/// Beam search with options.beam hypotheses per sentence: each step extends every live
/// hypothesis by its 2*beam best tokens, keeps the beam best that do not end, and sets aside
/// those ending in <eos>; a sentence stops once `beam` have ended (early stop) or at its length
/// limit, and returns the finished hypothesis with the best length-penalised score.
std::vector<Hypothesis> beam_search(Seq2SeqBody& body, Head& head, const torch::Tensor& source,
                                    const torch::Tensor& source_mask, const DecodeOptions& options);

}  // namespace lmforge::seq2seq
