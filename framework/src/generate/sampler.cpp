#include "generate/sampler.h"

#include <limits>

#include "lmforge/error.h"

namespace lmforge {

torch::Tensor filter_logits(torch::Tensor logits, std::int64_t top_k, double top_p) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (top_k > 0 && top_k < logits.size(-1)) {
    // Keep the last dimension so each row compares with its own k-th value.
    auto kth = std::get<0>(logits.topk(top_k)).narrow(-1, top_k - 1, 1);
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

namespace {

/// The next token of each unfinished row from its last position's logits [rows,V] (CPU, double);
/// finished rows get <eos> and draw nothing, so the other rows' draws do not depend on them.
std::vector<std::int64_t> choose_next(torch::Tensor logits, const SamplingOptions& options,
                                      std::vector<at::Generator>& generators,
                                      const std::vector<bool>& finished) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  // Specials other than <eos> are never generated.
  for (auto special : {Vocabulary::kPad, Vocabulary::kUnk, Vocabulary::kBos}) {
    logits.select(1, special).fill_(neg_inf);
  }
  const auto rows = static_cast<std::size_t>(logits.size(0));
  std::vector<std::int64_t> next(rows, Vocabulary::kEos);
  if (options.temperature <= 0) {
    auto best = logits.argmax(1).contiguous();
    const auto* ids = best.data_ptr<std::int64_t>();
    for (std::size_t r = 0; r < rows; ++r) {
      if (!finished[r]) next[r] = ids[r];
    }
    return next;
  }
  auto probabilities =
      filter_logits(logits / options.temperature, options.top_k, options.top_p).softmax(-1);
  for (std::size_t r = 0; r < rows; ++r) {
    if (finished[r]) continue;
    next[r] =
        torch::multinomial(probabilities[static_cast<std::int64_t>(r)], 1, false, generators[r])
            .item<std::int64_t>();
  }
  return next;
}

std::string ids_to_text(const Tokenizer& tokenizer, const std::vector<std::int64_t>& ids,
                        const std::string& line_break) {
  std::string text;
  std::vector<std::int64_t> sentence;
  for (auto id : ids) {
    if (id == Vocabulary::kEos) {
      text += tokenizer.decode(sentence) + line_break;
      sentence.clear();
    } else {
      sentence.push_back(id);
    }
  }
  return text + tokenizer.decode(sentence);
}

}  // namespace

std::vector<std::vector<std::int64_t>> sample_rows(Model& model,
                                                   const std::vector<std::int64_t>& prompt_ids,
                                                   std::int64_t rows,
                                                   const SamplingOptions& options,
                                                   torch::Device device) {
  if (rows < 1) {
    throw ConfigError("generate",
                      "the number of samples must be 1 or more, got " + std::to_string(rows));
  }
  if (!model.backbone().causal()) {
    throw ConfigError("generate", "this backbone is bidirectional; only causal backbones generate");
  }
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<at::Generator> generators;
  for (std::int64_t r = 0; r < rows; ++r) {
    generators.push_back(
        at::detail::createCPUGenerator(options.seed + static_cast<std::uint64_t>(r)));
  }
  std::vector<std::int64_t> context = prompt_ids;
  if (context.empty()) context.push_back(Vocabulary::kEos);  // start as after a sentence end
  // Every row starts from the same prompt; the backbones keep one state row per batch row.
  auto input = torch::tensor(context, torch::kLong)
                   .unsqueeze(0)
                   .expand({rows, static_cast<std::int64_t>(context.size())})
                   .contiguous()
                   .to(device);
  State state;
  std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(rows));
  std::vector<bool> finished(static_cast<std::size_t>(rows), false);
  std::int64_t unfinished = rows;
  for (std::int64_t i = 0; i < options.max_tokens && unfinished > 0; ++i) {
    Features features = model.backbone().forward(BackboneInput{input, {}, state});
    state = std::move(features.state);
    auto all_logits = model.head().forward(features);
    if (all_logits.dim() != 3) {
      throw ConfigError("generate",
                        "this model's head gives one prediction per text, not per token; "
                        "generate needs a language-model stage (head: lm)");
    }
    auto logits = all_logits.select(1, -1).to(torch::kCPU).to(torch::kDouble);
    auto next = choose_next(logits, options, generators, finished);
    for (std::size_t r = 0; r < next.size(); ++r) {
      if (finished[r]) continue;
      out[r].push_back(next[r]);
      if (next[r] == Vocabulary::kEos && options.stop_at_eos) {
        finished[r] = true;  // it keeps its row in the batch, fed <eos>, until all are done
        --unfinished;
      }
    }
    input = torch::tensor(next, torch::kLong).view({rows, 1}).to(device);
  }
  return out;
}

std::vector<std::int64_t> sample_ids(Model& model, const std::vector<std::int64_t>& prompt_ids,
                                     const SamplingOptions& options, torch::Device device) {
  return std::move(sample_rows(model, prompt_ids, 1, options, device).front());
}

std::string generate_text(Model& model, const Tokenizer& tokenizer, const std::string& prompt,
                          const SamplingOptions& options, torch::Device device) {
  return ids_to_text(tokenizer, sample_ids(model, tokenizer.encode(prompt), options, device),
                     options.line_break);
}

std::vector<std::string> generate_texts(Model& model, const Tokenizer& tokenizer,
                                        const std::string& prompt, std::int64_t rows,
                                        const SamplingOptions& options, torch::Device device) {
  std::vector<std::string> texts;
  for (const auto& ids : sample_rows(model, tokenizer.encode(prompt), rows, options, device)) {
    texts.push_back(ids_to_text(tokenizer, ids, options.line_break));
  }
  return texts;
}

}  // namespace lmforge
