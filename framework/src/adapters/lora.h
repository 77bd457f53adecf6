#pragma once
// LoRA (Hu et al. 2021): a low-rank update W = W0 + (alpha/rank)·B·A on chosen weight matrices of
// any backbone, trained while W0 and everything else of the body stay fixed.
//
// Why a reparametrisation of the weight rather than an extra path beside each layer: the core
// never names an architecture and a backbone's forward reads its own parameter tensors (the
// transformer calls torch::linear on them directly), so the update is written into the
// parameter itself. Before each forward W holds W0 + s·B·A; autograd gives G = dL/dW, and the
// chain rule gives the adapter gradients exactly: dL/dA = s·Bᵀ·G, dL/dB = s·G·Aᵀ. W itself is
// never stepped (its gradient is dropped once converted). This works for any backbone's matrix
// parameters, conv kernels included ([out, in, k] is read as [out, in·k]). Its one limit: an
// input dropout on the adapter path alone cannot be written into a weight, so `dropout` must be 0.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "adapters/adapter_spec.h"
#include "lmforge/backbone.h"

namespace lmforge {

class LoraAdapters : public torch::nn::Module {
 public:
  struct Target {
    std::string name;      ///< the backbone's parameter name, e.g. blocks.0.qkv.weight
    torch::Tensor weight;  ///< the backbone's parameter (shares storage with the backbone)
    torch::Tensor base;    ///< W0, a copy taken when the adapters were attached
    torch::Tensor a;       ///< [rank, in]
    torch::Tensor b;       ///< [out, rank], zero at the start so W starts as W0
  };

  /// Attaches adapters to every backbone parameter a pattern of `spec.targets` matches (see
  /// matches()). Throws ConfigError at `place` for a pattern that matches no matrix parameter
  /// (listing those that exist) and for a rank larger than a matched matrix allows.
  LoraAdapters(Backbone& backbone, const AdapterSpec& spec, const std::string& place);

  /// W = W0 + s·B·A for every target (no gradient). With B = 0 W is W0 bit for bit.
  void refresh();
  /// Turns each target's gradient G into the gradients of A and B, then drops G so no optimizer
  /// moves W. Call after backward (and after gradients are averaged across processes).
  void collect_gradients();
  /// Whether autograd computes G for the targets (true while training).
  void set_targets_trainable(bool trainable);
  /// W = W0 exactly: the weights as they were before the adapters (merge's inverse).
  void unmerge();

  const std::vector<Target>& targets() const { return targets_; }
  double scale() const { return scale_; }
  /// Parameters in A and B.
  std::int64_t adapter_parameter_count() const;

  /// The adapter-only archive: for each target "<name>.lora_A" and "<name>.lora_B", nothing else.
  void write(torch::serialize::OutputArchive& archive) const;
  /// Reads what write() wrote; refuses missing, unexpected or mis-shaped keys (DataError at
  /// `path`) before changing anything.
  void read(torch::serialize::InputArchive& archive, const std::string& path);

  /// Whether `pattern` selects the parameter `name`: a glob over the full name ('*' any run of
  /// characters), or a layer's name ("qkv" selects "*.qkv.weight" and "qkv.weight").
  static bool matches(const std::string& pattern, const std::string& name);

 private:
  std::vector<Target> targets_;
  double scale_ = 1.0;
};

}  // namespace lmforge
