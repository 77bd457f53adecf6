#include "report/run_record.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/atomic_file.h"
#include "lmforge/error.h"

namespace lmforge::report {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  for (std::string field; std::getline(stream, field, '\t');) fields.push_back(field);
  return fields;
}

// metrics.jsonl holds flat JSON objects, which are YAML flow maps: yaml-cpp reads them, and no
// JSON library is needed.
std::vector<MetricRow> read_metrics(const fs::path& path) {
  std::vector<MetricRow> rows;
  std::ifstream in(path);
  if (!in) return rows;
  std::int64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.empty()) continue;
    YAML::Node node;
    try {
      node = YAML::Load(line);
    } catch (const YAML::Exception& e) {
      throw DataError(path.string() + ":" + std::to_string(number),
                      "is not a JSON object: " + std::string(e.what()));
    }
    if (!node.IsMap()) {
      throw DataError(path.string() + ":" + std::to_string(number), "is not a JSON object");
    }
    MetricRow row;
    for (const auto& item : node) {
      auto key = item.first.as<std::string>();
      if (!item.second.IsScalar()) continue;  // null: a value that was not finite
      // A quoted scalar (tag "!") is a string even when it reads as a number.
      if (item.second.Tag() == "!") {
        row.strings[key] = item.second.as<std::string>();
        continue;
      }
      try {
        row.numbers[key] = item.second.as<double>();
      } catch (const YAML::Exception&) {
        row.strings[key] = item.second.as<std::string>();
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::pair<std::string, std::string>> read_samples(const fs::path& path) {
  std::vector<std::pair<std::string, std::string>> samples;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    samples.emplace_back(line.substr(0, tab), line.substr(tab + 1));
  }
  return samples;
}

std::vector<std::string> recipe_stage_names(const fs::path& recipe, const std::string& text) {
  std::vector<std::string> names;
  try {
    YAML::Node root = YAML::Load(text);
    for (const auto& stage : root["stages"]) names.push_back(stage["name"].as<std::string>());
  } catch (const YAML::Exception& e) {
    throw DataError(recipe.string(), "is not a resolved recipe: " + std::string(e.what()));
  }
  return names;
}

}  // namespace

std::string MetricRow::text(const std::string& key) const {
  auto it = strings.find(key);
  return it == strings.end() ? "" : it->second;
}

ConfusionTable read_confusion(const std::string& path, const std::string& split) {
  ConfusionTable table;
  table.split = split;
  std::ifstream in(path);
  if (!in) throw DataError(path, "cannot be read");
  std::string header;
  std::getline(in, header);
  auto columns = split_tabs(header);
  if (columns.size() < 2) throw DataError(path + ":1", "has no label columns");
  table.labels.assign(columns.begin() + 1, columns.end());
  std::int64_t number = 1;
  for (std::string line; std::getline(in, line);) {
    ++number;
    auto fields = split_tabs(line);
    if (fields.size() != columns.size()) {
      throw DataError(path + ":" + std::to_string(number), "has " + std::to_string(fields.size()) +
                                                               " fields, expected " +
                                                               std::to_string(columns.size()));
    }
    std::vector<std::int64_t> counts;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      try {
        counts.push_back(std::stoll(fields[i]));
      } catch (const std::exception&) {
        throw DataError(path + ":" + std::to_string(number), "'" + fields[i] + "' is not a count");
      }
    }
    table.counts.push_back(std::move(counts));
  }
  if (table.counts.size() != table.labels.size()) {
    throw DataError(path, "has " + std::to_string(table.counts.size()) + " rows for " +
                              std::to_string(table.labels.size()) + " labels");
  }
  return table;
}

RunRecord read_run(const std::string& dir) {
  fs::path root(dir);
  if (!fs::is_directory(root)) throw DataError(dir, "is not a directory");
  // A stage directory stands for its run.
  fs::path parent = fs::absolute(root).lexically_normal();
  if (parent.filename().empty()) parent = parent.parent_path();
  parent = parent.parent_path();
  if (!fs::exists(root / "recipe.yaml") && fs::exists(parent / "recipe.yaml")) root = parent;
  if (!fs::exists(root / "recipe.yaml")) {
    throw DataError(dir,
                    "is not a run directory (no recipe.yaml; expected runs/NAME from "
                    "lmforge run)");
  }
  RunRecord run;
  run.dir = root.string();
  run.recipe_text = io::read_text((root / "recipe.yaml").string());
  try {
    run.name = YAML::Load(run.recipe_text)["name"].as<std::string>("");
  } catch (const YAML::Exception&) {
  }
  if (run.name.empty()) run.name = fs::absolute(root).lexically_normal().filename().string();
  for (const auto& name : recipe_stage_names(root / "recipe.yaml", run.recipe_text)) {
    fs::path stage_dir = root / name;
    if (!fs::exists(stage_dir / "metrics.jsonl") && !fs::exists(stage_dir / "stage.yaml")) {
      run.missing.push_back(name);
      continue;
    }
    StageRecord stage;
    stage.name = name;
    stage.dir = stage_dir.string();
    stage.finished = fs::exists(stage_dir / "done");
    if (fs::exists(stage_dir / "stage.yaml"))
      stage.description = io::read_text((stage_dir / "stage.yaml").string());
    stage.rows = read_metrics(stage_dir / "metrics.jsonl");
    for (const char* split : {"test", "valid"}) {
      fs::path path = stage_dir / (std::string("confusion.") + split + ".tsv");
      if (fs::exists(path)) {
        stage.confusion = read_confusion(path.string(), split);
        break;
      }
    }
    stage.samples = read_samples(stage_dir / "samples.tsv");
    run.stages.push_back(std::move(stage));
  }
  return run;
}

}  // namespace lmforge::report
