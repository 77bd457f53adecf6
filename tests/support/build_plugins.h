#pragma once
// Loads this build's real plugins (lstm, lm, classifier, ...) the way the CLI does, for tests that
// run recipes in-process: one definition instead of a copy per test file.
#include <catch2/catch.hpp>
#include <filesystem>

#include "lmforge/registry.h"
#include "plugins/plugin_loader.h"

namespace lmforge::test {

/// The build's plugin folder sits beside the test plugins' (LMFORGE_TEST_PLUGIN_DIR).
inline void load_build_plugins() {
  std::filesystem::path dir =
      std::filesystem::path(LMFORGE_TEST_PLUGIN_DIR).parent_path() / "plugins";
  PluginLoader::instance().load_directory(dir.string());
  REQUIRE(Registry::instance().contains("backbone", "lstm"));
  REQUIRE(Registry::instance().contains("head", "lm"));
  REQUIRE(Registry::instance().contains("head", "classifier"));
}

}  // namespace lmforge::test
