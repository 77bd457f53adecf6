#include "config/config_node.h"

namespace lmforge {

std::string ConfigNode::place_of(const YAML::Node& node) const {
  YAML::Mark mark = node.Mark();
  // Nodes made by a command-line override, or keys that are absent, have no position in the file.
  if (mark.is_null() || mark.line < 0) return file_ + " (" + key_path_ + ")";
  return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

ConfigNode ConfigNode::child(const std::string& key) const {
  return ConfigNode(node_[key], file_, key_path_.empty() ? key : key_path_ + "." + key);
}

}  // namespace lmforge
