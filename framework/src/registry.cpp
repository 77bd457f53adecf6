#include "lmforge/registry.h"

#include <algorithm>

#include "config/suggest.h"
#include "lmforge/error.h"

namespace lmforge {

Registry& Registry::instance() {
  // Leaked on purpose: factories may live in plugins, which are never unloaded, and destroying
  // them after a plugin's static destructors ran would crash at exit.
  static Registry* registry = new Registry();
  return *registry;
}

void Registry::add_entry(ComponentInfo info, std::shared_ptr<void> factory) {
  auto& by_name = entries_[info.kind];
  auto existing = by_name.find(info.name);
  if (existing != by_name.end()) {
    throw PluginError(info.source, info.kind + " '" + info.name + "' is already registered by " +
                                       existing->second.info.source +
                                       "; a name may be registered only once");
  }
  std::string name = info.name;
  by_name.emplace(name, Entry{std::move(info), std::move(factory)});
}

const Registry::Entry& Registry::lookup(const std::string& kind, const std::string& name,
                                        const std::string& place) const {
  auto by_kind = entries_.find(kind);
  std::vector<std::string> known;
  if (by_kind != entries_.end()) {
    auto it = by_kind->second.find(name);
    if (it != by_kind->second.end()) return it->second;
    for (const auto& [n, e] : by_kind->second) known.push_back(n);
  }
  throw ConfigError(place, "unknown " + kind + " '" + name + "'" + did_you_mean(name, known) +
                               "; known: " + (known.empty() ? "none" : join_names(known)) +
                               " (is its plugin on the plugin path?)");
}

const ComponentInfo& Registry::find(const std::string& kind, const std::string& name,
                                    const std::string& place) const {
  return lookup(kind, name, place).info;
}

bool Registry::contains(const std::string& kind, const std::string& name) const {
  auto by_kind = entries_.find(kind);
  return by_kind != entries_.end() && by_kind->second.count(name) > 0;
}

std::vector<ComponentInfo> Registry::components() const {
  std::vector<ComponentInfo> out;
  for (const auto& [kind, by_name] : entries_) {
    for (const auto& [name, entry] : by_name) out.push_back(entry.info);
  }
  return out;
}

void Registry::remove_source(const std::string& source) {
  for (auto& [kind, by_name] : entries_) {
    for (auto it = by_name.begin(); it != by_name.end();) {
      it = it->second.info.source == source ? by_name.erase(it) : std::next(it);
    }
  }
}

}  // namespace lmforge
