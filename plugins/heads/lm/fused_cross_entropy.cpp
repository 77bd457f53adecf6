#include "fused_cross_entropy.h"

#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/torch.h>

#include <algorithm>

namespace lmforge {
namespace {

constexpr std::int64_t kIgnore = -100;

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

/// Rows [begin, begin+rows) of the problem: the loss summed over its counted rows; when `grad`,
/// also adds this chunk's share of the gradients (already divided by `count`).
double chunk(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& bias,
             const torch::Tensor& targets, std::int64_t begin, std::int64_t rows, double count,
             bool grad, torch::Tensor& grad_hidden, torch::Tensor& grad_weight,
             torch::Tensor& grad_bias) {
  auto h = hidden.narrow(0, begin, rows);
  auto t = targets.narrow(0, begin, rows);
  auto logits = bias.defined() ? torch::addmm(bias, h, weight.t()) : torch::mm(h, weight.t());
  auto counted = t.ne(kIgnore);
  auto safe_targets = t.masked_fill(counted.logical_not(), 0).unsqueeze(1);
  auto log_z = logits.logsumexp(1, /*keepdim=*/true);
  auto picked = logits.gather(1, safe_targets);
  auto row_loss = (log_z - picked).squeeze(1).masked_fill(counted.logical_not(), 0);
  const double loss = row_loss.sum().item<double>();
  if (!grad) return loss;

  // d loss / d logits = (softmax - one_hot) / count, built in place in the logits' memory.
  auto g = logits.sub_(log_z).exp_();
  g.scatter_add_(1, safe_targets, torch::full({rows, 1}, -1.0, g.options()));
  g.mul_(counted.unsqueeze(1).to(g.scalar_type()).div_(count));
  auto rows_of_grad = grad_hidden.narrow(0, begin, rows);  // contiguous: whole rows
  torch::mm_out(rows_of_grad, g, weight);
  grad_weight.addmm_(g.t(), h);
  if (grad_bias.defined()) grad_bias.add_(g.sum(0));
  return loss;
}

class FusedLinearCrossEntropy : public torch::autograd::Function<FusedLinearCrossEntropy> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor hidden, torch::Tensor weight,
                               torch::Tensor bias, torch::Tensor targets,
                               std::int64_t max_chunk_bytes) {
    if (bias.defined() && bias.numel() == 0) bias = torch::Tensor();
    const std::int64_t rows = hidden.size(0), vocab = weight.size(0);
    const double count = std::max<double>(1.0, targets.ne(kIgnore).sum().item<double>());
    const bool grad = ctx != nullptr;
    torch::Tensor grad_hidden, grad_weight, grad_bias;
    if (grad) {
      // In the weight's dtype (fp32 master weights under mixed precision); autograd casts the
      // hidden gradient back to the hidden states' own dtype.
      grad_hidden = torch::empty(hidden.sizes(), weight.options());
      grad_weight = torch::zeros_like(weight);
      if (bias.defined()) grad_bias = torch::zeros_like(bias);
    }
    const std::int64_t row_bytes = vocab * static_cast<std::int64_t>(hidden.element_size());
    const std::int64_t step = std::max<std::int64_t>(1, max_chunk_bytes / row_bytes);
    double total = 0;
    for (std::int64_t begin = 0; begin < rows; begin += step) {
      total += chunk(hidden, weight, bias, targets, begin, std::min(step, rows - begin), count,
                     grad, grad_hidden, grad_weight, grad_bias);
    }
    if (grad) ctx->save_for_backward({grad_hidden, grad_weight, grad_bias});
    return torch::tensor(total / count, hidden.options());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    const torch::Tensor& scale = grad_outputs[0];
    auto scaled = [&](const torch::Tensor& t) { return t.defined() ? t * scale : t; };
    return {scaled(saved[0]), scaled(saved[1]), scaled(saved[2]), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor fused_linear_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& weight,
                                         const torch::Tensor& bias, const torch::Tensor& targets,
                                         std::int64_t max_chunk_bytes) {
  TORCH_CHECK(hidden.dim() == 2 && weight.dim() == 2 && hidden.size(1) == weight.size(1),
              "fused_linear_cross_entropy: hidden [N,H] and weight [V,H] expected, got ",
              hidden.sizes(), " and ", weight.sizes());
  TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0),
              "fused_linear_cross_entropy: targets [N] expected, got ", targets.sizes());
  const bool needs_grad =
      torch::GradMode::is_enabled() && (hidden.requires_grad() || weight.requires_grad() ||
                                        (bias.defined() && bias.requires_grad()));
  // Under mixed precision the hidden states arrive in bf16/fp16 while the weights stay fp32. The
  // chunked softmax and its hand-written gradient (out= products into fp32 buffers) run in the
  // weights' dtype with autocast off, as autocast itself runs log_softmax and cross-entropy in
  // fp32; the cast of the hidden states is an autograd op, so their gradient flows back.
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  const torch::Tensor h = hidden.scalar_type() == weight.scalar_type()
                              ? hidden
                              : hidden.to(weight.scalar_type());
  if (!needs_grad) {
    // Evaluation: the loss alone, in bounded memory, no autograd node.
    return FusedLinearCrossEntropy::forward(nullptr, h, weight, bias, targets, max_chunk_bytes);
  }
  // autograd::Function cannot take an undefined tensor: "no bias" travels as an empty one.
  const torch::Tensor some_bias = bias.defined() ? bias : torch::empty({0}, weight.options());
  return FusedLinearCrossEntropy::apply(h, weight, some_bias, targets, max_chunk_bytes);
}

}  // namespace lmforge
