// validate_recipe (recipe/recipe.h): everything `run` would check, short of reading data and
// training, with every mistake reported at once at its place.
#include <c10/util/Exception.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "adapters/lora.h"
#include "config/error_list.h"
#include "config/yaml_options.h"
#include "lmforge/backbone.h"
#include "lmforge/error.h"
#include "lmforge/head.h"
#include "lmforge/labelled_task.h"
#include "lmforge/registry.h"
#include "lmforge/text_file.h"
#include "lmforge/vocabulary.h"
#include "recipe/recipe.h"
#include "recipe/stage_sources.h"
#include "train/parameter_groups.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

// A component's own constructor checks (a plugin's cross-field rules) surface at validation, with
// the component's recipe place, by building it once with placeholder sizes: `validate` then
// catches what `run` would, without reading data or training.
constexpr std::int64_t kPlaceholderVocabulary = 64;

void build_components(const StageComponents& c, const StageSpec& stage, std::uint64_t seed,
                      ErrorCollector& errors) {
  const TrainSpec& train = stage.train;
  Registry& registry = Registry::instance();
  auto located = [&](const ComponentSpec& spec, const std::function<void()>& build) {
    const std::string place = component_place(spec);
    errors.attempt([&] {
      try {
        build();
      } catch (const ConfigError& e) {
        if (!e.place().empty()) throw;
        throw ConfigError(place, e.message());
      } catch (const c10::Error& e) {
        std::string message = e.what_without_backtrace();
        throw ConfigError(place, spec.type + ": " + message.substr(0, message.find('\n')));
      }
    });
  };
  located(c.task, [&] {
    auto reader = component_reader(c.task, "task '" + c.task.type + "'");
    TaskContext context;
    context.place = component_place(c.task);
    context.batch_size = train.batch_size;
    context.seed = seed;
    auto task = registry.make_task(c.task.type, reader, context, context.place);
    // Listed metrics score a confusion matrix: only a labelled task has one to give them.
    if (!train.metrics.empty() && dynamic_cast<LabelledTask*>(task.get()) == nullptr) {
      throw ConfigError(context.place,
                        "train.metrics apply to labelled tasks (built on "
                        "LabelledTask, e.g. classification or tagging); task '" +
                            c.task.type + "' is not one");
    }
  });
  std::shared_ptr<Backbone> backbone;
  located(c.backbone, [&] {
    auto reader = component_reader(c.backbone, "backbone '" + c.backbone.type + "'");
    backbone = registry.make_backbone(c.backbone.type, reader,
                                      BackboneContext{kPlaceholderVocabulary, Vocabulary::kPad},
                                      component_place(c.backbone));
  });
  if (!backbone) return;
  // train.freeze may name layer groups (backbone.N) this backbone must have; a wrong one would
  // otherwise surface only when training starts.
  errors.attempt([&] {
    trainable_groups(train, backbone->layer_groups().size(), 0, stage.place + " train.freeze");
  });
  // Target patterns and rank are checked against the backbone's real parameter names and shapes
  // (only an embedding's row count is the placeholder's).
  if (stage.adapters.given()) {
    errors.attempt([&] { LoraAdapters(*backbone, stage.adapters, stage.place); });
  }
  located(c.head, [&] {
    auto reader = component_reader(c.head, "head '" + c.head.type + "'");
    registry.make_head(c.head.type, reader,
                       HeadContext{backbone->output_size(), kPlaceholderVocabulary, backbone.get()},
                       component_place(c.head));
  });
}

void validate_stages(const RecipeSpec& recipe, ErrorCollector& errors) {
  Registry& registry = Registry::instance();
  for (std::size_t i = 0; i < recipe.stages.size(); ++i) {
    const StageSpec& stage = recipe.stages[i];
    errors.attempt([&] { check_init_parts(stage); });
    if (stage.init.has_vectors()) errors.attempt([&] { init_vectors_path(recipe, i); });
    if (stage.init.given()) errors.attempt([&] { init_source_dir(recipe, i); });
    StageComponents c;
    if (!errors.attempt([&] { c = effective_components(recipe, i); })) continue;
    // Parse every component's options against its declaration (names, types, ranges).
    bool parsed = true;
    auto check = [&](const ComponentSpec& spec, const char* kind) {
      parsed &= errors.attempt([&] {
        const ComponentInfo& info = registry.find(kind, spec.type, component_place(spec));
        auto reader = component_reader(spec, std::string(kind) + " '" + spec.type + "'");
        reader.read(info.describe);
      });
    };
    check(c.task, "task");
    check(c.tokenizer, "tokenizer");
    check(c.backbone, "backbone");
    check(c.head, "head");
    check(stage.train.optimizer, "optimizer");
    check(stage.train.schedule, "schedule");
    for (const auto& metric : stage.train.metrics) {
      errors.attempt([&] { registry.find("metric", metric, stage.place + " train.metrics"); });
    }
    if (parsed) {
      build_components(c, stage, static_cast<std::uint64_t>(recipe.seed) + i, errors);
    }
    // Data files named by the task must exist, unless the recipe generates them.
    if (c.task.node && c.task.node->yaml().IsMap()) {
      for (const char* key : {"train", "valid", "test", "reference"}) {
        YAML::Node value = c.task.node->yaml()[key];
        if (!value || !value.IsScalar()) continue;
        std::string path = value.Scalar();
        bool generated = !recipe.generate_data.type.empty() && path.rfind(recipe.run_dir, 0) == 0;
        std::error_code ec;
        errors.attempt([&] {
          if (!generated && is_file_pattern(path)) {
            expand_file_pattern(path, std::string("task.") + key, c.task.node->place_of(value));
          } else if (!generated && !fs::exists(path, ec)) {
            throw DataError(c.task.node->place_of(value),
                            std::string("task.") + key + ": file '" + path +
                                "' does not exist (is --data-dir right?)");
          }
        });
      }
    }
  }
}

}  // namespace

void validate_recipe(const RecipeSpec& recipe) {
  // Every mistake is reported at once, each at its place (config/error_list.h).
  ErrorCollector errors;
  if (recipe.option_errors) {
    errors.attempt([&] { std::rethrow_exception(recipe.option_errors); });
  }
  try {
    validate_stages(recipe, errors);
  } catch (const std::exception&) {
    // A stage whose options did not parse can fail validation in ways no check foresaw (a
    // component left half-read); its option errors already say what to fix.
    if (!recipe.option_errors) throw;
  }
  errors.throw_if_any();
}

}  // namespace lmforge
