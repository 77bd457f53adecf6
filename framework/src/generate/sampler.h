#pragma once
// Text generation from any causal backbone + LM head: the prompt is run once, then each new token
// costs one step over the carried state (recurrent state or key/value cache). Several
// continuations of one prompt decode together as the rows of one batch.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/model.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

struct SamplingOptions {
  std::int64_t max_tokens = 50;
  double temperature = 1.0;  ///< 0 = greedy
  std::int64_t top_k = 0;    ///< 0 = no limit
  double top_p = 1.0;        ///< nucleus mass
  /// Row r of a batch draws from its own generator seeded seed + r: row 0 is what a batch of one
  /// gives, and no row depends on how many rows decode beside it.
  std::uint64_t seed = 1;
  /// Stop a row at the end of a sentence instead of continuing; a batch stops when every row has.
  bool stop_at_eos = false;
  /// What <eos> becomes in generated text: " ⏎ " keeps a sample on one line (training logs);
  /// `lmforge generate` prints "\n" so that verse looks like verse.
  std::string line_break = " ⏎ ";
};

/// Ids sampled after `prompt_ids` (the prompt itself not included).
std::vector<std::int64_t> sample_ids(Model& model, const std::vector<std::int64_t>& prompt_ids,
                                     const SamplingOptions& options, torch::Device device);

/// `rows` continuations of `prompt_ids` decoded as one batch: one forward per new token for all
/// rows, each row sampled on its own. Throws ConfigError when rows < 1.
std::vector<std::vector<std::int64_t>> sample_rows(Model& model,
                                                   const std::vector<std::int64_t>& prompt_ids,
                                                   std::int64_t rows,
                                                   const SamplingOptions& options,
                                                   torch::Device device);

/// The continuation of `prompt` as text (<eos> shown as options.line_break).
std::string generate_text(Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SamplingOptions& options, torch::Device device);

/// `rows` continuations of `prompt` as text, decoded together (sample_rows).
std::vector<std::string> generate_texts(Model& model, const Tokenizer& tokenizer,
                                        const std::string& prompt, std::int64_t rows,
                                        const SamplingOptions& options, torch::Device device);

/// Keeps the logits a sampler may choose from: top-k, then top-p; the rest become -inf. Works on
/// [V] or on [rows,V], each row on its own.
torch::Tensor filter_logits(torch::Tensor logits, std::int64_t top_k, double top_p);

}  // namespace lmforge
