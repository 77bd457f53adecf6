#include "init/vector_init.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "embed/embed_internal.h"
#include "embed/vector_formats.h"
#include "lmforge/error.h"
#include "lmforge/word_vector_table.h"
#include "train/stage_artifacts.h"

namespace lmforge {
namespace fs = std::filesystem;

WordVectors read_init_vectors(const InitSpec& init, const std::string& place) {
  std::error_code ec;
  const std::string& path = init.vectors;
  if (fs::is_directory(path, ec)) {
    // An lmforge run: its (last) stage's word vectors (a subword model's composed ones), rows
    // past the vocabulary left out.
    LoadedStage stage = load_stage(path);
    const Vocabulary& vocabulary = stage.tokenizer->vocabulary();
    torch::Tensor table = vocabulary_vectors(stage.model->backbone(), vocabulary);
    if (!table.defined() || table.dim() != 2) {
      throw ConfigError(place + " init.vectors",
                        "the '" + stage.components.backbone.type + "' backbone of " + stage.dir +
                            " has no input embedding to take vectors from");
    }
    if (table.size(0) > vocabulary.size()) table = table.slice(0, 0, vocabulary.size());
    return WordVectors(vocabulary, table.clone());
  }
  if (!fs::is_regular_file(path, ec)) {
    throw ConfigError(place + " init.vectors",
                      "'" + path + "' is neither a vectors file nor a run directory");
  }
  return embed::load_vector_file(path, init.format);
}

VectorCoverage fill_input_embedding(Backbone& backbone, const Vocabulary& vocabulary,
                                    const WordVectors& vectors, const std::string& place) {
  torch::Tensor table = backbone.input_embedding();
  if (!table.defined() || table.dim() != 2) {
    throw ConfigError(place + " init.vectors",
                      "this stage's backbone exposes no input embedding table to fill");
  }
  const std::int64_t width = table.size(1), dim = vectors.vectors().size(1);
  if (width != dim) {
    throw ConfigError(place + " init.vectors",
                      "the vectors are " + std::to_string(dim) +
                          " wide but the backbone's input embedding is " + std::to_string(width) +
                          " wide; make the backbone's embedding width " + std::to_string(dim));
  }
  const Vocabulary& source = vectors.vocabulary();
  std::unordered_map<std::string, std::int64_t> by_folded;
  for (std::int64_t id = source.size() - 1; id >= embed::kFirstWord; --id) {
    by_folded[embed::fold_case(source.token(id))] = id;  // the most frequent form wins
  }
  VectorCoverage coverage;
  std::vector<std::int64_t> rows, from;
  std::vector<std::int64_t> missing;
  const std::int64_t size = std::min(vocabulary.size(), table.size(0));
  for (std::int64_t id = embed::kFirstWord; id < size; ++id) {
    ++coverage.words;
    const std::string& word = vocabulary.token(id);
    std::int64_t found = source.contains(word) ? source.id(word) : -1;
    if (found >= embed::kFirstWord) {
      ++coverage.exact;
    } else {
      auto it = by_folded.find(embed::fold_case(word));
      found = it == by_folded.end() ? -1 : it->second;
      if (found < 0) {
        missing.push_back(id);
        continue;
      }
      ++coverage.folded;
    }
    rows.push_back(id);
    from.push_back(found);
  }
  torch::NoGradGuard no_grad;
  auto ids = [&](const std::vector<std::int64_t>& v) {
    return torch::tensor(v, torch::kLong).to(table.device());
  };
  if (!rows.empty()) {
    torch::Tensor found = vectors.vectors().index_select(0, torch::tensor(from, torch::kLong));
    table.index_copy_(0, ids(rows), found.to(table.device(), table.scalar_type()));
    // Uniform in ±a has variance a²/3: a = sqrt(3)·std matches the found vectors' spread.
    coverage.missing_bound = std::sqrt(3.0) * found.std().item<double>();
  } else {
    coverage.missing_bound = std::sqrt(3.0) * table.std().item<double>();
  }
  if (!missing.empty()) {
    table.index_copy_(0, ids(missing),
                      torch::empty({static_cast<std::int64_t>(missing.size()), width},
                                   table.options().requires_grad(false))
                          .uniform_(-coverage.missing_bound, coverage.missing_bound));
  }
  return coverage;
}

std::string describe(const VectorCoverage& c) {
  const std::int64_t found = c.exact + c.folded;
  char share[32], bound[32];
  std::snprintf(share, sizeof share, "%.2f%%",
                c.words ? 100.0 * static_cast<double>(found) / static_cast<double>(c.words) : 0.0);
  std::snprintf(bound, sizeof bound, "%.4f", c.missing_bound);
  return std::to_string(found) + " of " + std::to_string(c.words) + " vocabulary words found (" +
         share + ": " + std::to_string(c.exact) + " as written, " + std::to_string(c.folded) +
         " by case); " + std::to_string(c.words - found) + " missing rows drawn uniform in ±" +
         bound + " (the found vectors' variance)";
}

}  // namespace lmforge
