#include "adapters/lora.h"

#include <cmath>
#include <set>
#include <sstream>

#include "config/suggest.h"
#include "lmforge/error.h"

namespace lmforge {

namespace {

/// '*' matches any run of characters (dots included), everything else itself.
bool glob(const std::string& pattern, const std::string& text) {
  std::size_t p = 0, t = 0, star = std::string::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

/// A parameter read as a matrix [out, in]: rows are its first dimension.
torch::Tensor as_matrix(const torch::Tensor& t) { return t.reshape({t.size(0), -1}); }

}  // namespace

bool LoraAdapters::matches(const std::string& pattern, const std::string& name) {
  return glob(pattern, name) || glob(pattern + ".weight", name) ||
         glob("*." + pattern + ".weight", name);
}

LoraAdapters::LoraAdapters(Backbone& backbone, const AdapterSpec& spec, const std::string& place)
    : scale_(spec.alpha / static_cast<double>(spec.rank)) {
  const std::string where = place + " adapters.targets";
  std::vector<std::string> matrices;  // what a pattern may name, for the error message
  for (const auto& item : backbone.named_parameters()) {
    if (item.value().dim() >= 2) matrices.push_back(item.key());
  }
  if (spec.targets.empty()) {
    throw ConfigError(where, "name at least one weight matrix to adapt; the backbone's: " +
                                 join_names(matrices));
  }
  std::set<std::string> chosen;
  for (const auto& pattern : spec.targets) {
    bool any = false;
    for (const auto& name : matrices) {
      if (matches(pattern, name)) {
        chosen.insert(name);
        any = true;
      }
    }
    if (!any) {
      throw ConfigError(where, "'" + pattern + "' matches no weight matrix of the backbone" +
                                   did_you_mean(pattern, matrices) +
                                   "; its matrices: " + join_names(matrices));
    }
  }
  torch::NoGradGuard no_grad;
  std::int64_t index = 0;
  for (const auto& item : backbone.named_parameters()) {
    if (!chosen.count(item.key())) continue;
    Target target;
    target.name = item.key();
    target.weight = item.value();
    const std::int64_t out = target.weight.size(0);
    const std::int64_t in = target.weight.numel() / out;
    if (spec.rank > std::min(out, in)) {
      throw ConfigError(place + " adapters.rank",
                        "rank " + std::to_string(spec.rank) + " is larger than '" + target.name +
                            "' " + shape_text(target.weight) + " allows (at most " +
                            std::to_string(std::min(out, in)) + ")");
    }
    auto options = target.weight.options().requires_grad(false);
    target.base = target.weight.detach().clone();
    // PEFT's start: A uniform in ±1/sqrt(in) (Kaiming with a = sqrt 5), B zero, so W starts as W0.
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    target.a = register_parameter("lora_A_" + std::to_string(index),
                                  torch::empty({spec.rank, in}, options).uniform_(-bound, bound));
    target.b = register_parameter("lora_B_" + std::to_string(index),
                                  torch::zeros({out, spec.rank}, options));
    targets_.push_back(std::move(target));
    ++index;
  }
}

void LoraAdapters::refresh() {
  torch::NoGradGuard no_grad;
  for (auto& t : targets_) {
    auto update = torch::mm(t.b, t.a).mul_(scale_);
    t.weight.copy_(t.base + update.view(t.base.sizes()));
  }
}

void LoraAdapters::collect_gradients() {
  torch::NoGradGuard no_grad;
  for (auto& t : targets_) {
    torch::Tensor g = t.weight.grad();
    if (!g.defined()) continue;  // the target took no part in this step's loss
    g = as_matrix(g);
    t.a.mutable_grad() = torch::mm(t.b.t(), g).mul_(scale_);
    t.b.mutable_grad() = torch::mm(g, t.a.t()).mul_(scale_);
    t.weight.mutable_grad() = torch::Tensor();
  }
}

void LoraAdapters::set_targets_trainable(bool trainable) {
  for (auto& t : targets_) t.weight.set_requires_grad(trainable);
}

void LoraAdapters::unmerge() {
  torch::NoGradGuard no_grad;
  for (auto& t : targets_) t.weight.copy_(t.base);
}

std::int64_t LoraAdapters::adapter_parameter_count() const {
  std::int64_t count = 0;
  for (const auto& t : targets_) count += t.a.numel() + t.b.numel();
  return count;
}

void LoraAdapters::write(torch::serialize::OutputArchive& archive) const {
  for (const auto& t : targets_) {
    archive.write(t.name + ".lora_A", t.a);
    archive.write(t.name + ".lora_B", t.b);
  }
}

void LoraAdapters::read(torch::serialize::InputArchive& archive, const std::string& path) {
  std::vector<std::string> stored = archive.keys();
  std::set<std::string> expected;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  std::string problems;
  auto problem = [&](const std::string& line) {
    problems += (problems.empty() ? "" : "; ") + line;
  };
  for (const auto& t : targets_) {
    for (const auto& [suffix, into] : {std::pair<std::string, torch::Tensor>{".lora_A", t.a},
                                       std::pair<std::string, torch::Tensor>{".lora_B", t.b}}) {
      const std::string key = t.name + suffix;
      expected.insert(key);
      if (std::find(stored.begin(), stored.end(), key) == stored.end()) {
        problem("missing '" + key + "'");
        continue;
      }
      torch::Tensor value;
      archive.read(key, value);
      if (value.sizes() != into.sizes()) {
        problem("'" + key + "' is " + shape_text(value) + " in the file, " + shape_text(into) +
                " here");
        continue;
      }
      copies.emplace_back(into, value);
    }
  }
  for (const auto& key : stored) {
    if (!expected.count(key)) problem("unexpected '" + key + "'");
  }
  if (!problems.empty()) {
    throw DataError(
        path, "adapters do not fit this stage's targets (rank or targets changed?): " + problems);
  }
  torch::NoGradGuard no_grad;
  for (auto& [into, value] : copies) into.copy_(value);
}

}  // namespace lmforge
