#pragma once
// The recipe side of the options declarations: fills a struct from YAML (rejecting unknown and
// mistyped keys with file:line:col and a suggestion) and prints a component's documentation.
#include <string>
#include <vector>

#include "config/config_node.h"
#include "lmforge/options.h"
#include "lmforge/registry.h"

namespace lmforge {

/// Reads options from one mapping node. `reserved` keys (e.g. "type") are allowed but not fields.
class YamlOptionReader : public OptionReader {
 public:
  YamlOptionReader(ConfigNode node, std::string what, std::vector<std::string> reserved = {"type"});
  void read(const std::function<void(OptionVisitor&)>& visit) override;

 private:
  ConfigNode node_;
  std::string what_;
  std::vector<std::string> reserved_;
};

/// Fills `options` from `node`; convenience for core structs.
template <class Options>
Options read_options(const ConfigNode& node, const std::string& what,
                     std::vector<std::string> reserved = {}) {
  YamlOptionReader reader(node, what, std::move(reserved));
  return parse_options<Options>(reader);
}

/// One documented option, as `lmforge plugins --describe` prints it.
struct OptionDoc {
  std::string name;
  std::string type;
  std::string default_value;
  std::string help;
  std::string constraint;
};

std::vector<OptionDoc> describe_options(const std::function<void(OptionVisitor&)>& visit);

/// The component spec's options reader (the spec's node, or an empty mapping if none was given).
YamlOptionReader component_reader(const ComponentSpec& spec, const std::string& what);

/// The place of a component spec for error messages.
std::string component_place(const ComponentSpec& spec);

}  // namespace lmforge
