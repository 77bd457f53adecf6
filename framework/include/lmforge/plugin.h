#pragma once
// Declares a plugin: one exported handshake (ABI + LibTorch version, checked before anything else
// runs), its declaration (the kind and name of every component it provides) and one
// registration function.
//
//   LMFORGE_PLUGIN(lstm) { reg.backbone<LstmBackbone>("lstm", "word-level LSTM"); }
//
// The registration lines are written once and serve twice: run in listing mode they are the
// declaration the host reads before registering anything; run for real they register. A plugin
// that registers anything else (through Registry::instance() directly, from a static
// initializer, or differently the second time) is refused by the loader.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lmforge/registry.h"
#include "lmforge/torch_version.h"
#include "lmforge/version.h"

namespace lmforge {

/// Plain C layout so the host can read it even from a plugin built against another SDK.
struct PluginInfo {
  std::uint32_t abi_version;
  const char* plugin_name;
  const char* sdk_version;
  const char* torch_version;
  int cxx11_abi;  ///< _GLIBCXX_USE_CXX11_ABI the plugin was compiled with
};

/// One component of a plugin's declaration (plain C layout, like PluginInfo).
struct PluginComponent {
  const char* kind;  ///< "backbone", "head", "task", ... (ComponentKind<...>::kName)
  const char* name;  ///< the name recipes use
};

/// What a plugin's registration lines call `reg`: the Registry's registration methods, either
/// registering (with a registry) or only listing kind and name (without one).
class PluginRegistrar : public RegistrationNames<PluginRegistrar> {
 public:
  using Declaration = std::vector<std::pair<std::string, std::string>>;  // kind, name
  explicit PluginRegistrar(Registry& registry) : registry_(&registry) {}
  explicit PluginRegistrar(Declaration& declaration) : declaration_(&declaration) {}

 private:
  friend class RegistrationNames<PluginRegistrar>;
  template <class Product, class T>
  void add(const std::string& name, const std::string& summary) {
    if (registry_ != nullptr) {
      registry_->add<Product, T>(name, summary);
    } else {
      declaration_->emplace_back(ComponentKind<Product>::kName, name);
    }
  }
  Registry* registry_ = nullptr;
  Declaration* declaration_ = nullptr;
};

}  // namespace lmforge

#define LMFORGE_PLUGIN_INFO_SYMBOL lmforge_plugin_info
#define LMFORGE_PLUGIN_COMPONENTS_SYMBOL lmforge_plugin_components
#define LMFORGE_PLUGIN_REGISTER_SYMBOL lmforge_plugin_register

#define LMFORGE_PLUGIN(name)                                                                       \
  static void lmforge_plugin_body(::lmforge::PluginRegistrar& reg);                                \
  extern "C" __attribute__((visibility("default"))) const ::lmforge::PluginInfo*                   \
  LMFORGE_PLUGIN_INFO_SYMBOL() {                                                                   \
    static const ::lmforge::PluginInfo info{::lmforge::kAbiVersion, #name, ::lmforge::kSdkVersion, \
                                            LMFORGE_TORCH_VERSION_STRING, _GLIBCXX_USE_CXX11_ABI}; \
    return &info;                                                                                  \
  }                                                                                                \
  extern "C" __attribute__((visibility("default"))) const ::lmforge::PluginComponent*              \
  LMFORGE_PLUGIN_COMPONENTS_SYMBOL(std::size_t* count) {                                           \
    static const ::lmforge::PluginRegistrar::Declaration declaration = [] {                        \
      ::lmforge::PluginRegistrar::Declaration listed;                                              \
      ::lmforge::PluginRegistrar lister(listed);                                                   \
      lmforge_plugin_body(lister);                                                                 \
      return listed;                                                                               \
    }();                                                                                           \
    static const std::vector<::lmforge::PluginComponent> components = [] {                         \
      std::vector<::lmforge::PluginComponent> out;                                                 \
      for (const auto& entry : declaration) {                                                      \
        out.push_back({entry.first.c_str(), entry.second.c_str()});                                \
      }                                                                                            \
      return out;                                                                                  \
    }();                                                                                           \
    *count = components.size();                                                                    \
    return components.data();                                                                      \
  }                                                                                                \
  extern "C" __attribute__((visibility("default"))) void LMFORGE_PLUGIN_REGISTER_SYMBOL(           \
      ::lmforge::Registry& registry) {                                                             \
    ::lmforge::PluginRegistrar reg(registry);                                                      \
    lmforge_plugin_body(reg);                                                                      \
  }                                                                                                \
  static void lmforge_plugin_body(::lmforge::PluginRegistrar& reg)
