#pragma once
// What a run directory holds, read back for reporting: the resolved recipe, and per stage its
// description, metrics log, last confusion matrix and generated samples. Reading never needs
// LibTorch; only the embedding map (embedding_map.h) loads a model.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lmforge::report {

/// One line of metrics.jsonl: numbers and strings apart (null, for a non-finite value, is left
/// out).
struct MetricRow {
  std::map<std::string, double> numbers;
  std::map<std::string, std::string> strings;

  std::string text(const std::string& key) const;
  bool has(const std::string& key) const { return numbers.count(key) > 0; }
};

struct ConfusionTable {
  std::string split;
  std::vector<std::string> labels;
  std::vector<std::vector<std::int64_t>> counts;  ///< [true][predicted]
};

struct StageRecord {
  std::string name;
  std::string dir;
  std::string description;  ///< stage.yaml as written
  bool finished = false;
  std::vector<MetricRow> rows;
  std::optional<ConfusionTable> confusion;
  std::vector<std::pair<std::string, std::string>> samples;  ///< prompt, continuation
};

struct RunRecord {
  std::string name;
  std::string dir;
  std::string recipe_text;           ///< recipe.yaml: the resolved recipe
  std::vector<StageRecord> stages;   ///< in the recipe's order; stages never started are left out
  std::vector<std::string> missing;  ///< stages of the recipe without a directory
};

/// Reads `dir`, a run directory (runs/NAME) or one of its stages (runs/NAME/STAGE, then the
/// whole run is read). Throws DataError naming the path when it is not a run.
RunRecord read_run(const std::string& dir);

/// Reads a confusion matrix file (confusion.<split>.tsv, as LabelledTask writes it).
ConfusionTable read_confusion(const std::string& path, const std::string& split);

}  // namespace lmforge::report
