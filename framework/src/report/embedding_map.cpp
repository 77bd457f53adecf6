#include "report/embedding_map.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "lmforge/error.h"
#include "lmforge/vocabulary.h"
#include "lmforge/word_vector_table.h"
#include "train/stage_artifacts.h"

namespace lmforge::report {

std::optional<EmbeddingMap> embedding_map(const std::string& stage_dir, std::size_t words,
                                          std::string& why) {
  LoadedStage stage;
  try {
    stage = load_stage(stage_dir);
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
  if (!stage.model) {
    why = "the stage has no checkpoint";
    return std::nullopt;
  }
  torch::NoGradGuard no_grad;
  torch::Tensor table = vocabulary_vectors(stage.model->backbone(), stage.tokenizer->vocabulary());
  if (!table.defined()) {
    why = "its backbone has no input embedding";
    return std::nullopt;
  }
  if (table.dim() != 2 || table.size(1) < 2) {
    why = "its input embedding is not a [words, dimensions >= 2] table";
    return std::nullopt;
  }
  const Vocabulary& vocabulary = stage.tokenizer->vocabulary();
  const auto& counts = vocabulary.counts();
  std::int64_t rows = std::min<std::int64_t>(table.size(0), vocabulary.size());
  std::vector<std::int64_t> ids;
  for (std::int64_t id = Vocabulary::kEos + 1; id < rows; ++id) {
    if (id < static_cast<std::int64_t>(counts.size()) && counts[id] > 0) ids.push_back(id);
  }
  if (ids.size() < 3) {
    why = "its vocabulary has fewer than 3 counted words";
    return std::nullopt;
  }
  std::stable_sort(ids.begin(), ids.end(),
                   [&](std::int64_t a, std::int64_t b) { return counts[a] > counts[b]; });
  ids.resize(std::min(ids.size(), words));

  torch::Tensor x = table.detach()
                        .to(torch::kCPU, torch::kFloat)
                        .index_select(0, torch::tensor(ids, torch::kLong));
  // Unit rows: what embeddings are compared by is direction (cosine), not length, and frequent
  // words' longer vectors would otherwise take the first component.
  x = x / x.norm(2, 1, true).clamp_min(1e-12);
  x = x - x.mean(0, true);
  auto [u, s, vh] = torch::linalg_svd(x, /*full_matrices=*/false);
  torch::Tensor coordinates = (u.narrow(1, 0, 2) * s.narrow(0, 0, 2)).contiguous();
  auto c = coordinates.accessor<float, 2>();

  EmbeddingMap map;
  map.rows = table.size(0);
  map.dimensions = table.size(1);
  double total = s.pow(2).sum().item<double>();
  map.explained = total > 0 ? s.narrow(0, 0, 2).pow(2).sum().item<double>() / total : 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    map.words.push_back(vocabulary.token(ids[i]));
    map.points.emplace_back(c[static_cast<std::int64_t>(i)][0], c[static_cast<std::int64_t>(i)][1]);
  }
  return map;
}

}  // namespace lmforge::report
