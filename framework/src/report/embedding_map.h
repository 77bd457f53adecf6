#pragma once
// The most frequent words of a stage's input embedding, projected to two dimensions by PCA, so a
// report shows which words the model put near each other.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "report/svg_chart.h"

namespace lmforge::report {

struct EmbeddingMap {
  std::vector<std::string> words;
  std::vector<Point> points;
  double explained = 0;  ///< share of the words' variance the two components keep
  std::int64_t rows = 0, dimensions = 0;
};

/// The map of the `words` most frequent words of the stage in `stage_dir`, or nothing (and why)
/// when the stage has no checkpoint, no vocabulary counts or a backbone without an embedding.
std::optional<EmbeddingMap> embedding_map(const std::string& stage_dir, std::size_t words,
                                          std::string& why);

}  // namespace lmforge::report
