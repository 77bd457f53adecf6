#pragma once
// Text generation from any causal backbone + LM head: the prompt is run once, then each new token
// costs one step over the carried state (recurrent state or key/value cache).
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "lmforge/model.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

struct SamplingOptions {
  std::int64_t max_tokens = 50;
  double temperature = 1.0;  ///< 0 = greedy
  std::int64_t top_k = 0;    ///< 0 = no limit
  double top_p = 1.0;        ///< nucleus mass
  std::uint64_t seed = 1;
  bool stop_at_eos = false;  ///< stop at the end of a sentence instead of continuing
  /// What <eos> becomes in generated text: " ⏎ " keeps a sample on one line (training logs);
  /// `lmforge generate` prints "\n" so that verse looks like verse.
  std::string line_break = " ⏎ ";
};

/// Ids sampled after `prompt_ids` (the prompt itself not included).
std::vector<std::int64_t> sample_ids(Model& model, const std::vector<std::int64_t>& prompt_ids,
                                     const SamplingOptions& options, torch::Device device);

/// The continuation of `prompt` as text (<eos> shown as options.line_break).
std::string generate_text(Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SamplingOptions& options, torch::Device device);

/// Keeps the logits a sampler may choose from: top-k, then top-p; the rest become -inf.
torch::Tensor filter_logits(torch::Tensor logits, std::int64_t top_k, double top_p);

}  // namespace lmforge
