#include "generate/sampler.h"

#include "lmforge/error.h"

namespace lmforge {

torch::Tensor filter_logits(torch::Tensor logits, std::int64_t top_k, double top_p) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (top_k > 0 && top_k < logits.size(-1)) {
    auto kth = std::get<0>(logits.topk(top_k)).select(-1, top_k - 1);
    logits = logits.masked_fill(logits < kth, neg_inf);
  }
  if (top_p < 1.0) {
    auto [sorted, order] = logits.sort(/*dim=*/-1, /*descending=*/true);
    auto cumulative = sorted.softmax(-1).cumsum(-1);
    // Drop a token once the mass before it already reaches top_p (the first always stays).
    auto drop_sorted = (cumulative - sorted.softmax(-1)) >= top_p;
    auto drop = torch::zeros_like(drop_sorted).scatter(-1, order, drop_sorted);
    logits = logits.masked_fill(drop, neg_inf);
  }
  return logits;
}

std::vector<std::int64_t> sample_ids(Model& model, const std::vector<std::int64_t>& prompt_ids,
                                     const SamplingOptions& options, torch::Device device) {
  if (!model.backbone().causal()) {
    throw ConfigError("generate", "this backbone is bidirectional; only causal backbones generate");
  }
  torch::NoGradGuard no_grad;
  model.eval();
  auto generator = at::detail::createCPUGenerator(options.seed);
  std::vector<std::int64_t> context = prompt_ids;
  if (context.empty()) context.push_back(Vocabulary::kEos);  // start as after a sentence end
  auto input = torch::tensor(context, torch::kLong).unsqueeze(0).to(device);
  State state;
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < options.max_tokens; ++i) {
    Features features = model.backbone().forward(BackboneInput{input, {}, state});
    state = features.state;
    auto all_logits = model.head().forward(features);
    if (all_logits.dim() != 3) {
      throw ConfigError("generate",
                        "this model's head gives one prediction per text, not per token; "
                        "generate needs a language-model stage (head: lm)");
    }
    auto logits = all_logits.select(1, -1).squeeze(0).to(torch::kCPU);
    logits = logits.to(torch::kDouble);
    // Specials other than <eos> are never generated.
    logits[Vocabulary::kPad] = -std::numeric_limits<double>::infinity();
    logits[Vocabulary::kUnk] = -std::numeric_limits<double>::infinity();
    logits[Vocabulary::kBos] = -std::numeric_limits<double>::infinity();
    std::int64_t next;
    if (options.temperature <= 0) {
      next = logits.argmax().item<std::int64_t>();
    } else {
      auto filtered = filter_logits(logits / options.temperature, options.top_k, options.top_p);
      next = torch::multinomial(filtered.softmax(-1), 1, false, generator).item<std::int64_t>();
    }
    out.push_back(next);
    if (next == Vocabulary::kEos && options.stop_at_eos) break;
    input = torch::tensor({next}, torch::kLong).view({1, 1}).to(device);
  }
  return out;
}

std::string generate_text(Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SamplingOptions& options, torch::Device device) {
  auto ids = sample_ids(model, tokenizer.encode(prompt), options, device);
  std::string text;
  std::vector<std::int64_t> sentence;
  for (auto id : ids) {
    if (id == Vocabulary::kEos) {
      text += tokenizer.decode(sentence) + options.line_break;
      sentence.clear();
    } else {
      sentence.push_back(id);
    }
  }
  return text + tokenizer.decode(sentence);
}

}  // namespace lmforge
