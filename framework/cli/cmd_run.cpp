// `lmforge run` and `lmforge validate`.
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "cli_options.h"
#include "distributed/world.h"
#include "distributed_run.h"
#include "lmforge/error.h"
#include "plugins/plugin_loader.h"
#include "recipe/recipe.h"
#include "recipe/run_recipe.h"
#include "report/html_report.h"

namespace lmforge::cli {
namespace {

po::options_description recipe_options(const char* title) {
  po::options_description options(title);
  options.add_options()("help,h", "show this help")(
      "data-dir", po::value<std::string>()->default_value(""),
      "where ${data} points (default: $LMFORGE_DATA, else ./data)")(
      "out", po::value<std::string>()->default_value("runs"), "runs go to OUT/<recipe name>/");
  add_plugin_path_option(options);
  return options;
}

/// Loads plugins, then the recipe with its key=value overrides.
RecipeSpec load(const std::string& command, const Parsed& parsed) {
  if (parsed.positional.empty()) {
    throw ConfigError("lmforge " + command,
                      "missing RECIPE; usage: lmforge " + command + " RECIPE [key=value ...]");
  }
  load_plugins(parsed);
  RecipeContext context;
  context.data_dir = parsed.values["data-dir"].as<std::string>();
  context.out_dir = parsed.values["out"].as<std::string>();
  context.defer_option_errors = true;  // reported with validation's findings, all at once
  for (std::size_t i = 1; i < parsed.positional.size(); ++i) {
    const std::string& item = parsed.positional[i];
    if (item.find('=') == std::string::npos) {
      throw ConfigError("lmforge " + command,
                        "unexpected argument '" + item + "'; overrides look like key=value");
    }
    context.overrides.push_back(item);
  }
  return load_recipe(parsed.positional[0], context);
}

}  // namespace

int run_command(const Args& args) {
  auto options = recipe_options("lmforge run RECIPE [options] [key=value ...]");
  options.add_options()("resume", po::bool_switch(), "continue from the last checkpoint")(
      "restart-changed", po::bool_switch(),
      "with --resume: stages whose recipe settings changed (and the stages after them) start "
      "afresh instead of being refused")(
      "stages", po::value<std::string>(),
      "run only these stages, comma-separated; the others' directories in the run are used "
      "as they are");
  add_distributed_options(options);
  Parsed parsed = parse_command("run", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge run RECIPE [options] [key=value ...]", options);
    return 0;
  }
  RecipeSpec recipe = load("run", parsed);
  if (recipe.option_errors) {
    // Before any worker starts: every mistake at once, as `lmforge validate` reports them.
    PluginLoader::instance().load_paths(recipe.plugins, recipe.file + " plugins");
    validate_recipe(recipe);
  }
  // The launcher checks the recipe once (one error, not one per rank), then starts the workers.
  if (auto code = launch_workers_if_requested(parsed, args)) return *code;
  {
    YAML::Emitter resolved;
    resolved << recipe.resolved;
    join_world_if_worker(parsed, fingerprint(resolved.c_str()));
  }
  RunOptions run_options;
  run_options.resume = parsed.values["resume"].as<bool>();
  run_options.restart_changed = parsed.values["restart-changed"].as<bool>();
  if (parsed.values.count("stages")) {
    std::stringstream list(parsed.values["stages"].as<std::string>());
    for (std::string name; std::getline(list, name, ',');) {
      if (!name.empty()) run_options.only_stages.push_back(name);
    }
    if (run_options.only_stages.empty()) throw ConfigError("--stages", "names no stage");
  }
  run_recipe(recipe, run_options);
  std::cout << "run finished: " << recipe.run_dir << "\n";
  if (world_from_environment().rank == 0) {
    // The page is a view of what the run saved; a failure to draw it does not undo the run.
    std::string page = (std::filesystem::path(recipe.run_dir) / "report.html").string();
    try {
      int charts = report::write_report(recipe.run_dir, page);
      std::cout << "report: " << page << " (" << charts << " charts; lmforge report "
                << recipe.run_dir << " redraws it)\n";
    } catch (const Error& e) {
      std::cerr << "lmforge: warning: the report was not written: " << e.what() << "\n";
    }
  }
  return 0;
}

int validate_command(const Args& args) {
  auto options = recipe_options("lmforge validate RECIPE [options] [key=value ...]");
  Parsed parsed = parse_command("validate", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge validate RECIPE [options] [key=value ...]", options);
    return 0;
  }
  RecipeSpec recipe = load("validate", parsed);
  PluginLoader::instance().load_paths(recipe.plugins, recipe.file + " plugins");
  validate_recipe(recipe);
  std::cout << recipe.file << ": ok (" << recipe.stages.size() << " stage"
            << (recipe.stages.size() == 1 ? "" : "s") << ")\n";
  return 0;
}

}  // namespace lmforge::cli
