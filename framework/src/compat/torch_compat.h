#pragma once
// The one place where lmforge's sources differ between the two LibTorch lines it supports: the
// torch wheel's 2.x (the default build) and Debian's libtorch-dev 1.13. Everything else compiles
// unchanged against both.
#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

namespace lmforge::compat {

inline constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

/// Whether plugins are loaded with RTLD_DEEPBIND, so that the libraries a plugin brings resolve
/// their own symbols before the process's. Debian's LibTorch 1.13 exports the system protobuf
/// (3.21) into the process, and Debian's libsentencepiece carries an exported protobuf-lite (3.14)
/// of its own: in one symbol scope the sentencepiece plugin's protobuf calls reach 3.21 and abort
/// ("compiled against version 3.14.0 of the Protocol Buffer runtime"). The 2.x wheel hides its
/// protobuf, so it needs no deep binding; sanitizer runtimes refuse it.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LMFORGE_UNDER_ASAN 1  // clang's spelling of gcc's __SANITIZE_ADDRESS__
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(LMFORGE_UNDER_ASAN)
inline constexpr bool kDeepBindPlugins = false;
#else
inline constexpr bool kDeepBindPlugins = !kTorch2;
#endif

/// Turns autocast on or off for one device type with the given lower-precision dtype. LibTorch
/// 2.x takes the device type as an argument; 1.13 has one function pair per device.
inline void set_autocast(c10::DeviceType device, bool enabled, c10::ScalarType dtype) {
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(device, enabled);
  if (enabled) at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CPU) {
    at::autocast::set_cpu_enabled(enabled);
    if (enabled) at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(enabled);
    if (enabled) at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

inline bool autocast_enabled(c10::DeviceType device) {
#if TORCH_VERSION_MAJOR >= 2
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled()
                                        : at::autocast::is_enabled();
#endif
}

}  // namespace lmforge::compat
