#pragma once
// Scores of a labelling (per text or per token) from its confusion matrix: accuracy, macro-F1,
// per-label precision and recall, and a terminal report of the matrix.
#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/export.h"
#include "lmforge/task.h"

namespace lmforge {

/// [true label][predicted label] counts.
using Confusion = std::vector<std::vector<std::int64_t>>;

/// "accuracy", "macro_f1" and "precision.LABEL" / "recall.LABEL" for each of `labels` from
/// `confusion`. Macro-F1 averages over the labels that occur in the data or the predictions only.
LMFORGE_API Metrics confusion_metrics(const Confusion& confusion,
                                      const std::vector<std::string>& labels);

/// Terminal lines for `confusion` on `split`: the matrix for up to 12 labels (rows headed
/// "rows: true `row_label`"), else the 8 most frequent confusions.
LMFORGE_API std::vector<std::string> confusion_report(const Confusion& confusion,
                                                      const std::vector<std::string>& labels,
                                                      const std::string& split,
                                                      const std::string& row_label);

}  // namespace lmforge
