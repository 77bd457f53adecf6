#include "recipe/stage_sources.h"

#include <algorithm>
#include <filesystem>

#include "config/suggest.h"
#include "config/yaml_options.h"
#include "embed/vector_formats.h"
#include "interop/model_import.h"
#include "lmforge/error.h"
#include "lmforge/metric.h"
#include "lmforge/registry.h"

namespace lmforge {
namespace fs = std::filesystem;

std::string imported_source_run(const RecipeSpec& recipe, std::size_t stage_index) {
  return (fs::path(recipe.run_dir) / (recipe.stages[stage_index].name + ".import")).string();
}

std::string init_source_dir(const RecipeSpec& recipe, std::size_t stage_index) {
  const StageSpec& stage = recipe.stages[stage_index];
  if (stage.init.imports()) {
    // Another framework's model: the stage runner imports it as a stage of its own first.
    std::error_code ec;
    const fs::path source = fs::absolute(stage.init.from, ec).lexically_normal();
    if (!fs::exists(source, ec)) {
      throw ConfigError(stage.place + " init.from",
                        "'" + stage.init.from + "' (format " + stage.init.format +
                            ") does not exist: looked for " + source.string() +
                            " (relative paths start at the working directory)");
    }
    return (fs::path(imported_source_run(recipe, stage_index)) / kImportedStage).string();
  }
  int source = find_stage(recipe, stage.init.from);
  if (source >= 0) {
    if (static_cast<std::size_t>(source) >= stage_index) {
      throw ConfigError(stage.place, "init.from '" + stage.init.from +
                                         "' must name an earlier stage, not this or a later one");
    }
    return (fs::path(recipe.run_dir) / stage.init.from).string();
  }
  // A path is taken as written: relative to the working directory, as every path on the
  // command line (documented in `lmforge plugins --describe` under init.from).
  std::error_code ec;
  fs::path tried = fs::absolute(stage.init.from, ec).lexically_normal();
  if (fs::is_directory(tried, ec)) return tried.string();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < stage_index; ++i) names.push_back(recipe.stages[i].name);
  std::string message = "init.from '" + stage.init.from + "' is neither an earlier stage (" +
                        (names.empty() ? std::string("none") : join_names(names)) +
                        ") nor an existing directory: looked for " + tried.string() +
                        " (relative paths start at the working directory)";
  // The likeliest slip: a path written relative to the recipe's own folder.
  fs::path beside =
      (fs::absolute(recipe.file, ec).parent_path() / stage.init.from).lexically_normal();
  if (fs::path(stage.init.from).is_relative() && fs::is_directory(beside, ec)) {
    message += "; " + beside.string() + " exists: give that path";
  }
  throw ConfigError(stage.place, message + did_you_mean(stage.init.from, names));
}

void check_init_parts(const StageSpec& stage) {
  const InitSpec& init = stage.init;
  if (init.has_vectors()) {
    const std::vector<std::string>& vector_formats = embed::vector_file_formats();
    if (!init.format.empty() && std::find(vector_formats.begin(), vector_formats.end(),
                                          init.format) == vector_formats.end()) {
      throw ConfigError(stage.place + " init.format",
                        "'" + init.format + "' is no format of a vectors file; use " +
                            join_names(vector_formats) + did_you_mean(init.format, vector_formats));
    }
  } else if (init.given() && !init.format.empty()) {
    Registry::instance().find("importer", init.format, stage.place + " init.format");
  } else if (!init.format.empty()) {
    throw ConfigError(stage.place + " init.format",
                      "init.format says how to read init.vectors or another framework's model in "
                      "init.from: give one of them");
  }
  for (const auto& part : stage.init.parts) {
    if (part != "tokenizer" && part != "backbone" && part != "head") {
      throw ConfigError(stage.place,
                        "init.parts: unknown part '" + part + "'; use tokenizer, backbone, head");
    }
  }
  if (!stage.init.given() && (!stage.init.parts.empty() || stage.init.extends_vocabulary())) {
    throw ConfigError(stage.place + " init",
                      "init.parts and init.vocabulary take parts from an earlier stage: give "
                      "init.from");
  }
  if (!stage.init.has_vectors() && stage.init.freeze) {
    throw ConfigError(stage.place + " init.freeze",
                      "init.freeze keeps pre-trained vectors fixed: give init.vectors");
  }
  if (stage.adapters.given() && !stage.init.has("backbone")) {
    throw ConfigError(stage.place + " adapters",
                      "adapters adapt a pre-trained backbone: add `init: {from: STAGE, parts: "
                      "[tokenizer, backbone]}`");
  }
  if (stage.adapters.given() && stage.train.unfreeze != "none") {
    throw ConfigError(stage.place + " train.unfreeze",
                      "adapters keep the whole backbone frozen; train.unfreeze does not apply");
  }
  if (stage.init.extends_vocabulary() && !stage.init.has("tokenizer")) {
    throw ConfigError(stage.place,
                      "init.vocabulary: extend grows the source's vocabulary, so init.parts must "
                      "include tokenizer");
  }
}

std::string init_vectors_path(const RecipeSpec& recipe, std::size_t stage_index) {
  const StageSpec& stage = recipe.stages[stage_index];
  const int source = find_stage(recipe, stage.init.vectors);
  if (source >= 0 && static_cast<std::size_t>(source) < stage_index) {
    return (fs::path(recipe.run_dir) / stage.init.vectors).string();
  }
  std::error_code ec;
  if (!fs::exists(stage.init.vectors, ec)) {
    throw ConfigError(stage.place + " init.vectors",
                      "'" + stage.init.vectors +
                          "' is neither an earlier stage nor an existing file or run directory "
                          "(relative paths start at the working directory)");
  }
  return stage.init.vectors;
}

StageComponents effective_components(const RecipeSpec& recipe, std::size_t index) {
  const StageSpec& stage = recipe.stages[index];
  StageComponents c{stage.task, stage.tokenizer, stage.backbone, stage.head};
  if (stage.init.given()) {
    int source = find_stage(recipe, stage.init.from);
    StageComponents from;
    std::error_code ec;
    const std::string source_dir = init_source_dir(recipe, index);
    if (source >= 0 && static_cast<std::size_t>(source) < index) {
      from = effective_components(recipe, static_cast<std::size_t>(source));
    } else if (stage.init.imports() && !fs::exists(fs::path(source_dir) / "stage.yaml", ec)) {
      // Not imported yet (validation): what the importer would make of the model.
      from = interop::imported_components(stage.init.format, stage.init.from);
    } else {
      from = read_stage_components(source_dir);
    }
    if (stage.init.has("tokenizer")) c.tokenizer = from.tokenizer;
    if (!c.backbone.given() && stage.init.has("backbone")) c.backbone = from.backbone;
    if (!c.head.given() && stage.init.has("head")) c.head = from.head;
  }
  if (!c.tokenizer.given()) c.tokenizer.type = "word";
  if (!c.backbone.given())
    throw ConfigError(stage.place,
                      "stage '" + stage.name +
                          "' needs a backbone: give `backbone:` or init it from an earlier stage");
  if (!c.head.given()) throw ConfigError(stage.place, "stage '" + stage.name + "' needs a head");
  return c;
}

std::vector<NamedMetric> recipe_metrics(const StageSpec& stage) {
  std::vector<NamedMetric> metrics;
  for (const auto& name : stage.train.metrics) {
    auto reader = component_reader(ComponentSpec{name, nullptr}, "metric '" + name + "'");
    metrics.push_back({name, Registry::instance().make<Metric>(name, reader, NoContext{},
                                                               stage.place + " train.metrics")});
  }
  return metrics;
}

}  // namespace lmforge
