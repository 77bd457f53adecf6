#pragma once
// Where a stage takes what it does not build itself: its `init.from` source (an earlier stage of
// the recipe or a directory), its `init.vectors`, the components it omits (taken from the init
// source), and the metrics its `train:` lists. Shared by validation and the stage runner.
#include <cstddef>
#include <string>
#include <vector>

#include "lmforge/task.h"
#include "recipe/recipe.h"
#include "train/stage_artifacts.h"

namespace lmforge {

/// Where `init.from` points: an earlier stage's directory in the run, a directory as written
/// (relative to the working directory), or for another framework's model (`init.format` names
/// its importer) the stage it is imported as. Throws ConfigError naming the absolute path tried.
std::string init_source_dir(const RecipeSpec& recipe, std::size_t stage_index);

/// The run directory (beside the stage's own) that `init: {from: MODEL, format: IMPORTER}` is
/// imported into, as the stage kImportedStage.
std::string imported_source_run(const RecipeSpec& recipe, std::size_t stage_index);
inline constexpr const char* kImportedStage = "source";

/// Cross-checks of `init:` and `adapters:` (parts named, parts without a source, extend
/// without the tokenizer...). Throws ConfigError at the stage.
void check_init_parts(const StageSpec& stage);

/// Where `init.vectors` points: an earlier stage of this recipe (by name), else the path as
/// written. Throws ConfigError when neither exists.
std::string init_vectors_path(const RecipeSpec& recipe, std::size_t stage_index);

/// The stage's components, with those it omits taken from its init source.
StageComponents effective_components(const RecipeSpec& recipe, std::size_t index);

/// The stage's `train.metrics`, built from the registry.
std::vector<NamedMetric> recipe_metrics(const StageSpec& stage);

}  // namespace lmforge
