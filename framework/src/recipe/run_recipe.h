#pragma once
// Runs a recipe's stages in order: builds each stage's tokenizer, task, backbone and head (taking
// parts from earlier stages when `init` says so), trains, and records everything in the run
// directory so later stages, `--resume`, `generate` and `predict` can pick it up.
#include <string>

#include "recipe/recipe.h"

namespace lmforge {

struct RunOptions {
  bool resume = false;
};

/// Returns the final metrics of the last stage.
void run_recipe(const RecipeSpec& recipe, const RunOptions& options);

}  // namespace lmforge
