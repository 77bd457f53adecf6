#pragma once
// A node of a recipe together with where it came from, so every error can name `file:line:col`.
#include <yaml-cpp/yaml.h>

#include <string>

#include "lmforge/options.h"

namespace lmforge {

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::string file, std::string key_path)
      : node_(std::move(node)), file_(std::move(file)), key_path_(std::move(key_path)) {}

  const YAML::Node& yaml() const { return node_; }
  const std::string& file() const { return file_; }
  /// Dotted path from the recipe root, e.g. "stages.pretrain.backbone".
  const std::string& key_path() const { return key_path_; }

  /// "file:line:col" of this node, or "command line" for values set by an override.
  std::string place() const { return place_of(node_); }
  std::string place_of(const YAML::Node& node) const;
  /// Child node with its key path extended.
  ConfigNode child(const std::string& key) const;

 private:
  YAML::Node node_;
  std::string file_;
  std::string key_path_;
};

}  // namespace lmforge
