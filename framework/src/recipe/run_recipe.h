#pragma once
// Runs a recipe's stages in order: builds each stage's tokenizer, task, backbone and head (taking
// parts from earlier stages when `init` says so), trains, and records everything in the run
// directory so later stages, `--resume`, `generate` and `predict` can pick it up.
#include <string>
#include <vector>

#include "recipe/recipe.h"

namespace lmforge {

struct RunOptions {
  bool resume = false;
  /// With `resume`: a stage whose settings differ from those it ran with (settings.yaml) starts
  /// afresh, and so does every stage after it, instead of the run being refused.
  bool restart_changed = false;
  /// Run only these stages (empty = all). A stage that inits from a stage left out reads that
  /// stage's finished directory in the run, e.g. to try a new classifier on a pre-trained body.
  std::vector<std::string> only_stages;
};

/// Returns the final metrics of the last stage.
void run_recipe(const RecipeSpec& recipe, const RunOptions& options);

}  // namespace lmforge
