#pragma once
// Finds and loads plugin shared libraries. Each file is loaded at most once per process and never
// unloaded (unloading a library that links LibTorch can crash at exit: pytorch/pytorch#61111).
#include <filesystem>
#include <string>
#include <vector>

namespace lmforge {

struct LoadedPlugin {
  std::string path;
  std::string name;
};

class PluginLoader {
 public:
  static PluginLoader& instance();

  /// Loads one plugin file: checks the handshake (ABI, SDK, LibTorch, C++ ABI), reads its
  /// declaration, then calls its registration; refuses a plugin that registers a kind or name it
  /// did not declare, or declares one it does not register. Throws PluginError naming the file
  /// and the reason, with nothing of the plugin left registered. A file already loaded (by
  /// canonical path) is skipped.
  void load_file(const std::string& path);
  /// Loads every `*.so` plugin in `directory` (non-recursive, sorted by name).
  void load_directory(const std::string& directory);
  /// Loads the default search path: the build's/install's plugin folder next to the executable,
  /// then every folder in $LMFORGE_PLUGIN_PATH (':'-separated), then `extra` folders.
  void load_default_paths(const std::vector<std::string>& extra = {});
  /// Loads each entry: a file, or a folder of plugins.
  void load_paths(const std::vector<std::string>& paths, const std::string& place);

  const std::vector<LoadedPlugin>& loaded() const { return loaded_; }

 private:
  PluginLoader() = default;
  /// load_file's work past the permission checks; returns the plugin's name.
  std::string load_and_register(const std::string& path, const std::filesystem::path& canonical);
  std::vector<LoadedPlugin> loaded_;
  std::vector<std::string> loaded_paths_;
};

/// Folder holding the bundled plugins, found relative to the running executable.
std::string bundled_plugin_directory();

}  // namespace lmforge
