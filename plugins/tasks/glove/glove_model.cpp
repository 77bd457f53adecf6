#include "glove_model.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge::glove {

void GloveBackboneOptions::visit(OptionVisitor& v) {
  v.field("dim", dim, "width of the word vectors").positive();
  v.choice("vectors", vectors, {"sum", "word"},
           "what the stage exports as its word vectors: W + W~ (the paper's choice) or the word "
           "vectors W alone");
}

GloveBackbone::GloveBackbone(const Options& options, const BackboneContext& context)
    : options_(options) {
  if (context.vocab_size <= 0) {
    throw ConfigError("", "the glove backbone needs a non-empty vocabulary");
  }
  const std::int64_t v = context.vocab_size, d = options.dim;
  const double bound = 0.5 / static_cast<double>(d);
  auto uniform = [&](std::vector<std::int64_t> shape) {
    return torch::empty(shape).uniform_(-bound, bound);
  };
  word_ = register_parameter("word", uniform({v, d}));
  word_bias_ = register_parameter("word_bias", uniform({v}));
  context_ = register_parameter("context", uniform({v, d}));
  context_bias_ = register_parameter("context_bias", uniform({v}));
  word_gradsq_ = register_buffer("word_gradsq", torch::ones({v, d}));
  word_bias_gradsq_ = register_buffer("word_bias_gradsq", torch::ones({v}));
  context_gradsq_ = register_buffer("context_gradsq", torch::ones({v, d}));
  context_bias_gradsq_ = register_buffer("context_bias_gradsq", torch::ones({v}));
}

Features GloveBackbone::forward(const BackboneInput& input) {
  if (input.tokens.dim() != 2 || input.tokens.size(1) != 2) {
    throw ConfigError("glove backbone",
                      "expects (word, context) pairs [B,2]; it is trained by the glove task and "
                      "is not a sequence encoder");
  }
  torch::Tensor words = input.tokens.select(1, 0), contexts = input.tokens.select(1, 1);
  torch::Tensor left = torch::cat(
      {torch::embedding(word_, words), torch::embedding(word_bias_.unsqueeze(1), words)}, 1);
  torch::Tensor right = torch::cat({torch::embedding(context_, contexts),
                                    torch::embedding(context_bias_.unsqueeze(1), contexts)},
                                   1);
  return Features{torch::stack({left, right}, 1), torch::Tensor(), {}};
}

torch::Tensor GloveBackbone::input_embedding() {
  if (options_.vectors == "word") return word_;
  torch::NoGradGuard no_grad;
  return word_ + context_;
}

GloveBackbone::Tables GloveBackbone::tables() {
  for (const torch::Tensor* t : {&word_, &word_bias_, &context_, &context_bias_, &word_gradsq_,
                                 &word_bias_gradsq_, &context_gradsq_, &context_bias_gradsq_}) {
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat || !t->is_contiguous()) {
      throw ConfigError("glove backbone",
                        "GloVe trains on the CPU in float32; set the recipe's device: cpu");
    }
  }
  return Tables{word_.data_ptr<float>(),           word_bias_.data_ptr<float>(),
                context_.data_ptr<float>(),        context_bias_.data_ptr<float>(),
                word_gradsq_.data_ptr<float>(),    word_bias_gradsq_.data_ptr<float>(),
                context_gradsq_.data_ptr<float>(), context_bias_gradsq_.data_ptr<float>()};
}

void GloveHeadOptions::visit(OptionVisitor& v) {
  v.field("x_max", x_max, "co-occurrence count at which the weight f(x) reaches 1").positive();
  v.field("alpha", alpha, "exponent of the weighting function f(x) = (x / x_max)^alpha")
      .range(0.0, 10.0);
}

GloveHead::GloveHead(const Options& options, const HeadContext&) : options_(options) {}

torch::Tensor GloveHead::forward(const Features& features) {
  const torch::Tensor& pairs = features.sequence;
  if (pairs.dim() != 3 || pairs.size(1) != 2) {
    throw ConfigError("glove head", "expects the glove backbone's pair features [B,2,dim+1]");
  }
  const std::int64_t d = pairs.size(2) - 1;
  torch::Tensor left = pairs.select(1, 0), right = pairs.select(1, 1);
  return (left.narrow(1, 0, d) * right.narrow(1, 0, d)).sum(1) + left.select(1, d) +
         right.select(1, d);
}

torch::Tensor GloveHead::loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  torch::Tensor x = targets.to(logits.scalar_type());
  torch::Tensor weight = (x / options_.x_max).pow(options_.alpha).clamp_max(1.0);
  torch::Tensor diff = logits - x.log();
  return (0.5 * weight * diff * diff).mean();
}

}  // namespace lmforge::glove
