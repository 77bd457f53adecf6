#pragma once
// A metric a recipe adds to the evaluation of a labelled task (classification, tagging, or a
// plugin task built on LabelledTask):
//
//   train: {metrics: [cohen_kappa]}
//
// It scores the confusion matrix of a split ([true label][predicted label] counts), so any
// labelled task reports it, per split, beside accuracy and macro-F1. A plugin adds one with
//   reg.metric<CohenKappa>("cohen_kappa", "agreement beyond chance");
// where CohenKappa has `using Options = NoOptions;` (or its own) and a constructor
// `CohenKappa(const Options&, const NoContext&)`.
#include <string>
#include <vector>

#include "lmforge/export.h"
#include "lmforge/label_metrics.h"

namespace lmforge {

class LMFORGE_API Metric {
 public:
  virtual ~Metric();
  /// The score of `confusion` over `labels` (in id order).
  virtual double compute(const Confusion& confusion,
                         const std::vector<std::string>& labels) const = 0;
  /// Whether a higher score is better (for reports).
  virtual bool higher_is_better() const { return true; }
};

}  // namespace lmforge
