#pragma once
// What decides a stage's results, kept in its directory (settings.yaml) when it starts: its own
// entry of the resolved recipe plus the recipe's seed and generated data. `--resume` compares
// them with the recipe it is given, so a changed recipe never silently keeps old results.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "recipe/recipe.h"

namespace lmforge {

/// The settings of stage `index` of `recipe` (after interpolation and overrides).
YAML::Node stage_settings(const RecipeSpec& recipe, std::size_t index);

/// Writes `settings` to `stage_dir`/settings.yaml (atomically).
void save_stage_settings(const std::string& stage_dir, const YAML::Node& settings);

/// One line per setting that differs between the saved settings of `stage_dir` and `settings`,
/// "stage.backbone.hidden_size: 128 -> 64" (a key on one side only shows "(absent)"). Empty
/// when they agree or the directory has no settings.yaml (a run from before they were saved).
std::vector<std::string> changed_settings(const std::string& stage_dir, const YAML::Node& settings);

}  // namespace lmforge
