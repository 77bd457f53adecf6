#include "plugins/plugin_declaration.h"

#include "lmforge/error.h"

namespace lmforge {
namespace {

std::string describe(const std::pair<std::string, std::string>& component) {
  return component.first + " '" + component.second + "'";
}

std::string describe(const ComponentSet& components) {
  if (components.empty()) return "nothing";
  std::string out;
  for (const auto& component : components) out += (out.empty() ? "" : ", ") + describe(component);
  return out;
}

}  // namespace

ComponentSet read_declaration(const std::string& path, const PluginComponent* components,
                              std::size_t count) {
  ComponentSet declared;
  for (std::size_t i = 0; i < count; ++i) {
    const PluginComponent& c = components[i];
    if (c.kind == nullptr || c.name == nullptr || *c.kind == '\0' || *c.name == '\0') {
      throw PluginError(path, "refused: entry " + std::to_string(i + 1) +
                                  " of its declaration (lmforge_plugin_components) has no kind "
                                  "or no name; rebuild it with LMFORGE_PLUGIN from this SDK");
    }
    declared.emplace(c.kind, c.name);
  }
  return declared;
}

ComponentSet registered_from(const Registry& registry, const std::string& source) {
  ComponentSet registered;
  for (const auto& info : registry.components()) {
    if (info.source == source) registered.emplace(info.kind, info.name);
  }
  return registered;
}

void refuse_undeclared(const std::string& path, const ComponentSet& registered,
                       const ComponentSet& allowed, const ComponentSet* declared,
                       const std::string& when) {
  for (const auto& component : registered) {
    if (allowed.count(component) != 0) continue;
    // A component outside the declaration is one nobody reading the plugin's declaration sees
    // coming, and it could take a name another plugin or the core means to use.
    throw PluginError(path, "refused: it registered " + describe(component) +
                                (when.empty() ? ", which its declaration does not list"
                                              : " " + when + ", outside its registration lines") +
                                (declared ? " (it declares " + describe(*declared) + ")" : "") +
                                "; a plugin registers only through `reg` in LMFORGE_PLUGIN, "
                                "whose lines are also its declaration");
  }
}

void refuse_unregistered(const std::string& path, const ComponentSet& declared,
                         const ComponentSet& registered) {
  for (const auto& component : declared) {
    if (registered.count(component) != 0) continue;
    throw PluginError(path, "refused: it declares " + describe(component) +
                                " but did not register it (its registration lines list "
                                "different components on each run)");
  }
}

}  // namespace lmforge
