// Where plugins may come from: a plugin file or folder other users can write to is refused with
// the reason, and an empty entry in $LMFORGE_PLUGIN_PATH never means the working directory.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "lmforge/error.h"
#include "plugins/plugin_loader.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmforge::PluginLoader;
using lmforge::test::TempDir;

namespace {

/// A copy of a built test plugin in `dir` (a folder of mode 0755).
std::string plugin_copy(const TempDir& dir, const std::string& name) {
  fs::permissions(dir.path, fs::perms(0755));
  fs::path copy = dir.path / name;
  fs::copy_file(fs::path(LMFORGE_TEST_PLUGIN_DIR) / "test_plugin_good_tokenizer.so", copy);
  fs::permissions(copy, fs::perms(0755));
  return copy.string();
}

template <class Action>
std::string plugin_error_of(Action action) {
  try {
    action();
  } catch (const lmforge::PluginError& e) {
    std::cout << "  refused: " << e.what() << "\n";
    return e.what();
  }
  FAIL("no PluginError");
  return {};
}

bool loaded_from(const fs::path& dir) {
  for (const auto& plugin : PluginLoader::instance().loaded()) {
    if (plugin.path.rfind(fs::canonical(dir).string(), 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("plugins: a file or folder writable by other users is refused, saying why",
          "[reliability][plugins]") {
  TempDir dir("plugin_perms");
  std::string plugin = plugin_copy(dir, "writable.so");

  fs::permissions(plugin, fs::perms(0757));
  std::string refused = plugin_error_of([&] { PluginLoader::instance().load_file(plugin); });
  CHECK_THAT(refused, Catch::StartsWith(fs::canonical(plugin).string()) &&
                          Catch::Contains("plugin file is writable by every user (mode 757)") &&
                          Catch::Contains("chmod o-w"));

  fs::permissions(plugin, fs::perms(0755));
  fs::permissions(dir.path, fs::perms(0777));
  refused = plugin_error_of([&] { PluginLoader::instance().load_directory(dir.str()); });
  CHECK_THAT(refused, Catch::Contains("plugin folder is writable by every user (mode 777)"));
  // A named file in such a folder could be renamed over by anyone: refused too.
  refused = plugin_error_of([&] { PluginLoader::instance().load_file(plugin); });
  CHECK_THAT(refused, Catch::Contains("plugin folder is writable by every user"));
  CHECK_FALSE(loaded_from(dir.path));
  fs::permissions(dir.path, fs::perms(0755));
}

TEST_CASE("plugins: an empty $LMFORGE_PLUGIN_PATH entry does not search the working directory",
          "[reliability][plugins]") {
  TempDir dir("plugin_cwd");
  plugin_copy(dir, "stray.so");
  const fs::path previous = fs::current_path();
  const char* old_env = std::getenv("LMFORGE_PLUGIN_PATH");
  const std::string saved = old_env ? old_env : "";
  fs::current_path(dir.path);
  ::setenv("LMFORGE_PLUGIN_PATH", ":", 1);
  CHECK_NOTHROW(PluginLoader::instance().load_default_paths());
  fs::current_path(previous);
  if (old_env) {
    ::setenv("LMFORGE_PLUGIN_PATH", saved.c_str(), 1);
  } else {
    ::unsetenv("LMFORGE_PLUGIN_PATH");
  }
  CHECK_FALSE(loaded_from(dir.path));
}
