#pragma once
// Declares a plugin: one exported handshake (ABI + LibTorch version, checked before anything else
// runs) and one registration function.
//
//   LMFORGE_PLUGIN(lstm) { reg.backbone<LstmBackbone>("lstm", "word-level LSTM"); }
#include <cstdint>

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

}  // namespace lmforge

#define LMFORGE_PLUGIN_INFO_SYMBOL lmforge_plugin_info
#define LMFORGE_PLUGIN_REGISTER_SYMBOL lmforge_plugin_register

#define LMFORGE_PLUGIN(name)                                                                    \
  static void lmforge_plugin_body(::lmforge::Registry& reg);                                    \
  extern "C" __attribute__((visibility("default"))) const ::lmforge::PluginInfo*                \
  LMFORGE_PLUGIN_INFO_SYMBOL() {                                                                \
    static const ::lmforge::PluginInfo info{::lmforge::kAbiVersion, #name,                      \
                                            ::lmforge::kSdkVersion,                             \
                                            LMFORGE_TORCH_VERSION_STRING, _GLIBCXX_USE_CXX11_ABI}; \
    return &info;                                                                               \
  }                                                                                             \
  extern "C" __attribute__((visibility("default"))) void LMFORGE_PLUGIN_REGISTER_SYMBOL(        \
      ::lmforge::Registry& reg) {                                                               \
    lmforge_plugin_body(reg);                                                                   \
  }                                                                                             \
  static void lmforge_plugin_body(::lmforge::Registry& reg)
