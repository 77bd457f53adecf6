#include "cnn.h"

#include <torch/torch.h>

#include <string>

#include "lmforge/error.h"

namespace lmforge {

void CnnOptions::visit(OptionVisitor& v) {
  v.field("embedding_dim", embedding_dim, "width of the word embedding").positive();
  v.field("filter_widths", filter_widths,
          "filter widths in words, one bank of feature_maps filters per width")
      .positive();
  v.field("feature_maps", feature_maps, "filters per width").positive();
  v.field("dropout", dropout, "dropout on the pooled features").range(0.0, 1.0);
}

CnnBackbone::CnnBackbone(const Options& options, const BackboneContext& context)
    : options_(options) {
  check_options(options, "cnn");  // the declared ranges, for options built in C++
  if (context.vocab_size <= 0)
    throw ConfigError("", "the cnn backbone needs a non-empty vocabulary");
  if (options.filter_widths.empty()) {
    throw ConfigError("filter_widths", "give at least one filter width, e.g. [3, 4, 5]");
  }
  embedding_ = register_module("embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(
                                                context.vocab_size, options.embedding_dim)));
  // Kim's code draws the random vectors uniformly in +-0.25 (about the GoogleNews vectors'
  // spread); PyTorch's N(0, 1) would dwarf them.
  {
    torch::NoGradGuard no_grad;
    embedding_->weight.uniform_(-0.25, 0.25);
  }
  for (std::size_t i = 0; i < options.filter_widths.size(); ++i) {
    const std::int64_t width = options.filter_widths[i];
    convs_.push_back(
        register_module("conv" + std::to_string(i),
                        torch::nn::Conv1d(torch::nn::Conv1dOptions(options.embedding_dim,
                                                                   options.feature_maps, width)
                                              .padding(width - 1))));
  }
}

std::int64_t CnnBackbone::output_size() const {
  return options_.feature_maps * static_cast<std::int64_t>(options_.filter_widths.size());
}

Features CnnBackbone::forward(const BackboneInput& input) {
  TORCH_CHECK(input.tokens.dim() == 2, "cnn backbone expects tokens [B,T], got ",
              input.tokens.sizes());
  torch::Tensor x = embedding_->forward(input.tokens);  // [B,T,E]
  torch::Tensor real = input.mask.defined()
                           ? input.mask.to(x.scalar_type())
                           : torch::ones(input.tokens.sizes(), x.options());  // [B,T]
  // Padding positions read as zero vectors, as Kim's zero padding.
  x = (x * real.unsqueeze(-1)).transpose(1, 2);  // [B,E,T]
  std::vector<torch::Tensor> pooled;
  for (std::size_t i = 0; i < convs_.size(); ++i) {
    const std::int64_t width = options_.filter_widths[i];
    torch::Tensor maps = torch::relu(convs_[i]->forward(x));  // [B,F,T+width-1]
    // A window covers a real token when the mask, summed over the window, is positive.
    torch::Tensor covered =
        torch::conv1d(real.unsqueeze(1), torch::ones({1, 1, width}, real.options()), {}, 1,
                      width - 1) > 0.5;  // [B,1,T+width-1]
    // ReLU outputs are >= 0, so zeroing the empty windows leaves every maximum exact.
    pooled.push_back((maps * covered.to(maps.scalar_type())).amax(2));  // [B,F]
  }
  torch::Tensor features = torch::cat(pooled, 1);
  if (options_.dropout > 0) features = torch::dropout(features, options_.dropout, is_training());
  return Features{features.unsqueeze(1), torch::Tensor(), {}};
}

std::vector<std::vector<torch::Tensor>> CnnBackbone::layer_groups() {
  std::vector<torch::Tensor> convolutions;
  for (auto& conv : convs_) {
    for (auto& p : conv->parameters()) convolutions.push_back(p);
  }
  return {{embedding_->weight}, convolutions};
}

}  // namespace lmforge
