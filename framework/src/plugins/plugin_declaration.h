#pragma once
// A plugin's declaration (the kind and name of every component it provides, exported as
// lmforge_plugin_components) and the check that what it registered matches it.
#include <set>
#include <string>
#include <utility>

#include "lmforge/plugin.h"

namespace lmforge {

/// kind, name pairs.
using ComponentSet = std::set<std::pair<std::string, std::string>>;

/// The declaration from a plugin's lmforge_plugin_components(); throws PluginError at `path` for
/// an entry without a kind or a name.
ComponentSet read_declaration(const std::string& path, const PluginComponent* components,
                              std::size_t count);

/// What the registry holds from `source` (a plugin file's canonical path).
ComponentSet registered_from(const Registry& registry, const std::string& source);

/// Throws PluginError at `path` naming the first of `registered` that `allowed` lacks. `when`
/// says at which step it was registered ("" for the registration itself); `declared`, when
/// already read (not null), is quoted in the message.
void refuse_undeclared(const std::string& path, const ComponentSet& registered,
                       const ComponentSet& allowed, const ComponentSet* declared,
                       const std::string& when);

/// Throws PluginError at `path` naming the first of `declared` that `registered` lacks.
void refuse_unregistered(const std::string& path, const ComponentSet& declared,
                         const ComponentSet& registered);

}  // namespace lmforge
