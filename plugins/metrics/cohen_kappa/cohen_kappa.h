#pragma once
// Cohen's kappa: agreement between predicted and true labels beyond what chance agreement at the
// same label frequencies would give, (p_o - p_e) / (1 - p_e). 0 for a model that always answers
// the majority label (where accuracy can look high on skewed data), 1 for perfect agreement.
//
// Example (recipe):
//   train: {metrics: [cohen_kappa]}    # adds valid.cohen_kappa / test.cohen_kappa
#include "lmforge/metric.h"
#include "lmforge/options.h"
#include "lmforge/registry.h"

namespace lmforge {

class CohenKappa : public Metric {
 public:
  using Options = NoOptions;
  CohenKappa(const Options&, const NoContext&) {}
  double compute(const Confusion& confusion, const std::vector<std::string>& labels) const override;
};

}  // namespace lmforge
