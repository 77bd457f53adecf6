#include "recipe/run_recipe.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <thread>

#include "config/suggest.h"
#include "data/toy_grammar.h"
#include "distributed/communicator.h"
#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "plugins/plugin_loader.h"
#include "recipe/stage_runner.h"
#include "recipe/stage_settings.h"
#include "train/runtime.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

bool selected(const RunOptions& options, const std::string& stage) {
  const auto& only = options.only_stages;
  return only.empty() || std::find(only.begin(), only.end(), stage) != only.end();
}

void check_selected_stages(const RecipeSpec& recipe, const RunOptions& options) {
  std::vector<std::string> names;
  for (const auto& stage : recipe.stages) names.push_back(stage.name);
  for (const auto& name : options.only_stages) {
    if (find_stage(recipe, name) < 0) {
      throw ConfigError("--stages", "no stage '" + name + "' in " + recipe.file +
                                        did_you_mean(name, names) +
                                        "; stages: " + join_names(names));
    }
  }
}

enum class StageStart { kAfresh, kResume, kSkip };

/// Whether a stage resumes, starts afresh or is skipped as finished. The model, its data and its
/// seed must be the ones the checkpoints were made with; how it trains (train:, generate:) may
/// change for an unfinished stage, e.g. freezing a group from here on, while a finished stage's
/// results would not reflect such a change, so there it counts. Records the settings a stage
/// that runs starts with.
StageStart plan_stage(const RecipeSpec& recipe, std::size_t index, const RunOptions& options,
                      bool restarted_earlier) {
  const StageSpec& stage = recipe.stages[index];
  const fs::path stage_dir = fs::path(recipe.run_dir) / stage.name;
  const YAML::Node settings = stage_settings(recipe, index);
  bool resume = options.resume && !restarted_earlier;
  if (resume) {
    const bool finished = fs::exists(stage_dir / "done");
    std::string list, training;
    for (const auto& line : changed_settings(stage_dir.string(), settings)) {
      bool how_it_trains = line.rfind("stage.train.", 0) == 0 ||
                           line.rfind("stage.generate.", 0) == 0 ||
                           line.rfind("stage.generate:", 0) == 0;
      std::string& into = how_it_trains && !finished ? training : list;
      into += (into.empty() ? "" : "; ") + line;
    }
    if (!list.empty()) {
      if (!options.restart_changed) {
        throw ConfigError(stage.place,
                          "--resume: " + std::string(finished ? "finished " : "") + "stage '" +
                              stage.name + "' was run with other settings than this recipe's (" +
                              list +
                              "); resume with the recipe as it was, or add --restart-changed "
                              "to train this stage and the ones after it afresh");
      }
      std::cout << stage.name << ": settings changed (" << list << "), starting afresh\n";
      resume = false;
    } else if (!training.empty()) {
      std::cerr << "lmforge: warning: " << stage.name
                << ": resuming with changed training settings (" << training << ")\n";
    }
  }
  if (resume && fs::exists(stage_dir / "done")) {
    std::cout << stage.name << ": already finished, skipping\n";
    return StageStart::kSkip;
  }
  fs::create_directories(stage_dir);
  fs::remove(stage_dir / "done");
  save_stage_settings(stage_dir.string(), settings);
  return resume ? StageStart::kResume : StageStart::kAfresh;
}

}  // namespace

void run_recipe(const RecipeSpec& recipe, const RunOptions& options) {
  PluginLoader::instance().load_paths(recipe.plugins, recipe.file + " plugins");
  validate_recipe(recipe);
  check_selected_stages(recipe, options);
  // Ranks on one machine share its cores: each gets cores / local processes unless the recipe
  // says how many threads.
  Communicator* world = current_communicator();
  configure_runtime(recipe.threads > 0 || !world
                        ? recipe.threads
                        : std::max<std::int64_t>(1, std::thread::hardware_concurrency() /
                                                        world->world().local_world_size));
  torch::Device device = torch::kCPU;
  if (recipe.device == "cuda") {
    if (!torch::cuda::is_available()) {
      throw ConfigError(recipe.file, "device: cuda, but no CUDA device is available");
    }
    device = torch::kCUDA;
  }
  fs::create_directories(recipe.run_dir);
  {
    YAML::Emitter out;
    out << recipe.resolved;
    io::write_text_atomically((fs::path(recipe.run_dir) / "recipe.yaml").string(),
                              std::string(out.c_str()) + "\n");
  }
  if (!recipe.generate_data.type.empty()) {
    fs::path data_dir = fs::path(recipe.run_dir) / "data";
    if (!fs::exists(data_dir / "reference.json")) {
      auto report = write_toy_grammar(data_dir.string(), recipe.generate_data.sentences,
                                      static_cast<std::uint64_t>(recipe.generate_data.seed),
                                      recipe.generate_data.labelled_fraction);
      std::cout << "generated toy grammar data in " << data_dir.string() << ": "
                << report.train_tokens << " training tokens, true entropy " << std::fixed
                << std::setprecision(3) << report.test_nats_per_token << " nats/token\n";
    }
  }

  // Once a stage starts afresh, later stages may be built on what it will produce (init.from):
  // they start afresh too rather than keep results made from the old one.
  bool restarted_earlier = false;
  for (std::size_t index = 0; index < recipe.stages.size(); ++index) {
    const StageSpec& stage = recipe.stages[index];
    if (!selected(options, stage.name)) continue;
    const StageStart start = plan_stage(recipe, index, options, restarted_earlier);
    if (start == StageStart::kSkip) continue;
    restarted_earlier = restarted_earlier || (options.resume && start == StageStart::kAfresh);
    StageRunner runner(recipe, index, device, start == StageStart::kResume, world);
    runner.prepare();
    runner.initialise();
    runner.train();
    runner.report();
  }
}

}  // namespace lmforge
