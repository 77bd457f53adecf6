#pragma once
// The embed subcommands over lines of text (search, and cluster/outliers with --corpus).
#include <cstdint>
#include <string>

#include "train/stage_artifacts.h"

namespace lmforge::cli {

struct TextCommandOptions {
  std::string corpus;
  std::string query;    ///< search: one text
  std::string queries;  ///< search: a file whose line i asks for corpus line i (recall@1/@k)
  std::int64_t k = 10;  ///< search: results; cluster/outliers: clusters
  std::int64_t show = 10;
  std::int64_t count = 20;
  std::uint64_t seed = 1;
};

/// Runs `name` (search, cluster, outliers) over the lines of `options.corpus`.
int run_text_command(const std::string& name, const LoadedStage& stage,
                     const TextCommandOptions& options);

}  // namespace lmforge::cli
