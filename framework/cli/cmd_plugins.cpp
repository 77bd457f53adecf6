// `lmforge plugins`: what is registered, where it comes from, and what options it takes.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "config/suggest.h"
#include "config/yaml_options.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "plugins/plugin_loader.h"
#include "recipe/recipe.h"

namespace lmforge::cli {
namespace {

// The recipe's own sections, described from their option declarations (recipe/recipe.h).
template <class Spec>
ComponentInfo recipe_part(const char* name, const char* summary) {
  return ComponentInfo{"recipe", name, summary, "built-in", [](OptionVisitor& v) {
                         Spec defaults;
                         defaults.visit(v);
                       }};
}

std::vector<ComponentInfo> recipe_parts() {
  return {recipe_part<RecipeSpec>("recipe", "a recipe's top-level keys (and stages:, a list)"),
          recipe_part<StageSpec>("stage", "one entry of stages:"),
          recipe_part<TrainSpec>("train", "a stage's train: section"),
          recipe_part<InitSpec>("init", "a stage's init: section (start from an earlier stage)")};
}

}  // namespace

int plugins_command(const Args& args) {
  po::options_description options("lmforge plugins [options]");
  options.add_options()("help,h", "show this help")("describe", po::value<std::string>(),
                                                    "document one component's options")(
      "kind", po::value<std::string>(), "with --describe: backbone, head, task, tokenizer, ...");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("plugins", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge plugins [--describe NAME]", options);
    return 0;
  }
  load_plugins(parsed);
  auto components = Registry::instance().components();
  // The recipe's own keys are documented like components (`--describe train`).
  for (auto& part : recipe_parts()) components.push_back(std::move(part));

  if (parsed.values.count("describe")) {
    std::string name = parsed.values["describe"].as<std::string>();
    std::string kind = parsed.values.count("kind") ? parsed.values["kind"].as<std::string>() : "";
    std::vector<std::string> names;
    int shown = 0;
    for (const auto& c : components) {
      names.push_back(c.name);
      if (c.name != name || (!kind.empty() && c.kind != kind)) continue;
      ++shown;
      std::cout << c.kind << " '" << c.name << "': " << c.summary << "\n  from " << c.source
                << "\n\noptions:\n";
      auto docs = describe_options(c.describe);
      if (docs.empty()) std::cout << "  (none)\n";
      for (const auto& d : docs) {
        std::cout << "  " << std::left << std::setw(18) << d.name << " " << d.type << " = "
                  << d.default_value << (d.constraint.empty() ? "" : "  [" + d.constraint + "]")
                  << "\n      " << d.help << "\n";
      }
      std::cout << "\n";
    }
    if (shown == 0) {
      std::vector<std::string> kinds, kinds_of_name;
      for (const auto& c : components) {
        if (std::find(kinds.begin(), kinds.end(), c.kind) == kinds.end()) kinds.push_back(c.kind);
        if (c.name == name) kinds_of_name.push_back(c.kind);
      }
      if (!kind.empty() && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
        throw ConfigError("--kind", "no kind '" + kind + "'" + did_you_mean(kind, kinds) +
                                        "; kinds: " + join_names(kinds));
      }
      if (!kinds_of_name.empty()) {
        throw ConfigError("--kind", "'" + name + "' is a " + join_names(kinds_of_name) +
                                        ", not a " + kind + "; try --kind " +
                                        kinds_of_name.front());
      }
      throw ConfigError("--describe",
                        "no component named '" + name + "'" + did_you_mean(name, names));
    }
    return 0;
  }

  // Columns as wide as their longest entry (a user's plugin file name can be long), so a summary
  // never runs into the column before it.
  auto from_of = [](const ComponentInfo& c) {
    return c.source == "built-in" ? c.source : std::filesystem::path(c.source).filename().string();
  };
  std::size_t kind_width = 4, name_width = 4, from_width = 4;
  for (const auto& c : components) {
    kind_width = std::max(kind_width, c.kind.size());
    name_width = std::max(name_width, c.name.size());
    from_width = std::max(from_width, from_of(c).size());
  }
  auto row = [&](const std::string& kind, const std::string& name, const std::string& from,
                 const std::string& summary) {
    std::cout << std::left << std::setw(static_cast<int>(kind_width + 2)) << kind
              << std::setw(static_cast<int>(name_width + 2)) << name
              << std::setw(static_cast<int>(from_width + 2)) << from << summary << "\n";
  };
  row("KIND", "NAME", "FROM", "SUMMARY");
  for (const auto& c : components) row(c.kind, c.name, from_of(c), c.summary);
  return 0;
}

}  // namespace lmforge::cli
