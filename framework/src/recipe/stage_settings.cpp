#include "recipe/stage_settings.h"

#include <filesystem>
#include <map>

#include "io/atomic_file.h"
#include "lmforge/error.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFile = "settings.yaml";

/// Dotted key -> value text for every scalar in `node`; sequences index as key[i].
void flatten(const YAML::Node& node, const std::string& key,
             std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      std::string name = item.first.as<std::string>();
      flatten(item.second, key.empty() ? name : key + "." + name, out);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      flatten(node[i], key + "[" + std::to_string(i) + "]", out);
    }
    if (node.size() == 0) out[key] = "[]";
  } else if (node.IsScalar()) {
    out[key] = node.Scalar();
  } else {
    out[key] = "~";
  }
}

}  // namespace

YAML::Node stage_settings(const RecipeSpec& recipe, std::size_t index) {
  YAML::Node settings(YAML::NodeType::Map);
  settings["seed"] = recipe.seed;
  if (recipe.resolved["generate_data"]) {
    settings["generate_data"] = YAML::Clone(recipe.resolved["generate_data"]);
  }
  const YAML::Node stages = recipe.resolved["stages"];
  if (stages && stages.IsSequence() && index < stages.size()) {
    settings["stage"] = YAML::Clone(stages[index]);
  }
  return settings;
}

void save_stage_settings(const std::string& stage_dir, const YAML::Node& settings) {
  YAML::Emitter out;
  out << settings;
  io::write_text_atomically((fs::path(stage_dir) / kFile).string(),
                            std::string(out.c_str()) + "\n");
}

std::vector<std::string> changed_settings(const std::string& stage_dir,
                                          const YAML::Node& settings) {
  fs::path file = fs::path(stage_dir) / kFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  YAML::Node saved;
  try {
    saved = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    throw DataError(file.string(), std::string("unreadable stage settings: ") + e.what());
  }
  std::map<std::string, std::string> before, after;
  flatten(saved, "", before);
  flatten(settings, "", after);
  std::vector<std::string> lines;
  auto value = [](const std::map<std::string, std::string>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? std::string("(absent)") : it->second;
  };
  std::map<std::string, bool> keys;
  for (const auto& item : before) keys[item.first] = true;
  for (const auto& item : after) keys[item.first] = true;
  for (const auto& item : keys) {
    std::string was = value(before, item.first), now = value(after, item.first);
    if (was != now) lines.push_back(item.first + ": " + was + " -> " + now);
  }
  return lines;
}

}  // namespace lmforge
