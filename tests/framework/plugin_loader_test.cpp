// The plugin loader refuses every kind of broken plugin with one clear error naming the file and
// the reason, leaves nothing of a refused plugin registered, and loads a good plugin exactly once.
#include "plugins/plugin_loader.h"

#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/yaml_options.h"
#include "lmforge/error.h"
#include "lmforge/plugin.h"
#include "lmforge/registry.h"
#include "lmforge/tokenizer.h"
#include "lmforge/version.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using lmforge::PluginError;
using lmforge::PluginLoader;
using lmforge::Registry;

namespace {

std::string test_plugin(const std::string& name) {
  return (fs::path(LMFORGE_TEST_PLUGIN_DIR) / ("test_plugin_" + name + ".so")).string();
}

/// Loads `path` expecting a PluginError; returns its what().
std::string refusal(const std::string& path) {
  try {
    PluginLoader::instance().load_file(path);
  } catch (const PluginError& e) {
    CHECK(e.code() == lmforge::ExitCode::kPlugin);
    return e.what();
  }
  FAIL("loading " << path << " did not throw PluginError");
  return "";
}

bool is_loaded(const std::string& path) {
  std::string canonical = fs::canonical(path).string();
  for (const auto& plugin : PluginLoader::instance().loaded()) {
    if (plugin.path == canonical) return true;
  }
  return false;
}

std::size_t components_from(const std::string& path) {
  std::string canonical = fs::canonical(path).string();
  std::size_t n = 0;
  for (const auto& c : Registry::instance().components()) n += c.source == canonical;
  return n;
}

using lmforge::test::TempDir;

}  // namespace

TEST_CASE("plugin loader: wrong ABI version is refused before registration", "[plugins][loader]") {
  std::string path = test_plugin("wrong_abi");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::Contains(fs::canonical(path).filename().string()));
  CHECK_THAT(what, Catch::Contains("ABI 999"));
  CHECK_THAT(what, Catch::Contains("ABI " + std::to_string(lmforge::kAbiVersion)));
  CHECK_THAT(what, Catch::Contains("rebuild"));
  CHECK_FALSE(is_loaded(path));
  CHECK(components_from(path) == 0);
  // Refused again on a second try (not remembered as loaded).
  CHECK_THAT(refusal(path), Catch::Contains("ABI 999"));
}

TEST_CASE("plugin loader: a throwing registration is refused with the exception's text",
          "[plugins][loader]") {
  std::string path = test_plugin("throwing");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path));
  CHECK_THAT(what, Catch::Contains("registration threw"));
  CHECK_THAT(what, Catch::Contains("cannot find my model weights"));
  CHECK_FALSE(is_loaded(path));
  CHECK(components_from(path) == 0);
  CHECK(Registry::instance().current_source() == "built-in");
}

TEST_CASE("plugin loader: a name clash is refused naming both sources", "[plugins][loader]") {
  std::string path = test_plugin("duplicate");
  REQUIRE(Registry::instance().contains("tokenizer", "word"));
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path));
  CHECK_THAT(what, Catch::Contains("tokenizer 'word'"));
  CHECK_THAT(what, Catch::Contains("already registered"));
  CHECK_THAT(what, Catch::Contains("built-in"));
  CHECK_FALSE(is_loaded(path));
  CHECK(components_from(path) == 0);
  // The built-in survives the refused plugin.
  const auto& word = Registry::instance().find("tokenizer", "word", "test");
  CHECK(word.source == "built-in");
  CHECK(word.summary != "clashes with the built-in");
  CHECK(Registry::instance().current_source() == "built-in");
}

TEST_CASE("plugin loader: a library without the handshake is not an lmforge plugin",
          "[plugins][loader]") {
  std::string path = test_plugin("no_handshake");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path));
  CHECK_THAT(what, Catch::Contains("not an lmforge plugin"));
  CHECK_THAT(what, Catch::Contains("LMFORGE_PLUGIN"));
  CHECK_FALSE(is_loaded(path));
}

TEST_CASE("plugin loader: a missing symbol fails at load time, not at first call",
          "[plugins][loader]") {
  std::string path = test_plugin("missing_symbol");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path));
  CHECK_THAT(what, Catch::Contains("cannot load"));
  CHECK_THAT(what, Catch::Contains("lmforge_symbol_that_does_not_exist"));
  // The file is named once, as the place; dlerror()'s own copy of it is dropped.
  CHECK(what.find(path, path.size()) == std::string::npos);
  CHECK_FALSE(is_loaded(path));
  CHECK(components_from(path) == 0);
}

TEST_CASE("plugin loader: a text file named .so and a missing file are refused cleanly",
          "[plugins][loader]") {
  TempDir dir;
  std::string fake = (dir.path / "fake_plugin.so").string();
  std::ofstream(fake) << "this is not a shared library\n";
  std::string what = refusal(fake);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(fake));
  CHECK_THAT(what, Catch::Contains("cannot load as a shared library"));
  CHECK_FALSE(is_loaded(fake));

  std::string missing = (dir.path / "nowhere.so").string();
  CHECK_THAT(refusal(missing), Catch::Contains("not found"));

  // A directory holding only the fake: load_directory reports it rather than skipping it.
  CHECK_THROWS_AS(PluginLoader::instance().load_directory(dir.path.string()), PluginError);
  // A missing path in a plugin list names the place it came from.
  try {
    PluginLoader::instance().load_paths({missing}, "recipe.yaml plugins");
    FAIL("no error for a missing plugin path");
  } catch (const PluginError& e) {
    CHECK_THAT(std::string(e.what()), Catch::StartsWith("recipe.yaml plugins"));
    CHECK_THAT(std::string(e.what()), Catch::Contains(missing));
  }
}

TEST_CASE("plugin loader: a good plugin registers with its file as source, once",
          "[plugins][loader]") {
  std::string path = test_plugin("good_tokenizer");
  std::string canonical = fs::canonical(path).string();
  PluginLoader& loader = PluginLoader::instance();
  REQUIRE_NOTHROW(loader.load_file(path));
  REQUIRE(Registry::instance().contains("tokenizer", "test_reversed_words"));
  const auto& info = Registry::instance().find("tokenizer", "test_reversed_words", "test");
  CHECK(info.source == canonical);
  CHECK(info.kind == "tokenizer");
  CHECK(info.summary == "test plugin: words in reverse order");
  CHECK(is_loaded(path));
  CHECK(Registry::instance().current_source() == "built-in");

  std::size_t loaded = loader.loaded().size();
  std::size_t components = Registry::instance().components().size();
  // Same file again, also through a different spelling of the path: a no-op.
  REQUIRE_NOTHROW(loader.load_file(path));
  std::string roundabout =
      (fs::path(LMFORGE_TEST_PLUGIN_DIR) / ".." / fs::path(LMFORGE_TEST_PLUGIN_DIR).filename() /
       ("test_plugin_good_tokenizer.so"))
          .string();
  REQUIRE_NOTHROW(loader.load_file(roundabout));
  CHECK(loader.loaded().size() == loaded);
  CHECK(Registry::instance().components().size() == components);
  CHECK(components_from(path) == 1);
  std::size_t named = 0;
  for (const auto& p : loader.loaded()) named += p.path == canonical;
  CHECK(named == 1);
  for (const auto& p : loader.loaded()) {
    if (p.path == canonical) CHECK(p.name == "good_tokenizer");
  }

  // The plugin's tokenizer works through the registry like a built-in one.
  lmforge::ConfigNode empty(YAML::Node(YAML::NodeType::Map), "test.yaml", "tokenizer");
  lmforge::YamlOptionReader reader(empty, "tokenizer 'test_reversed_words'");
  auto tokenizer = Registry::instance().make_tokenizer("test_reversed_words", reader, "test");
  REQUIRE(tokenizer);
  CHECK(tokenizer->split("a b c") == std::vector<std::string>{"c", "b", "a"});
  // Its description lists the options it declared.
  auto docs = lmforge::describe_options(info.describe);
  bool has_min_count = false;
  for (const auto& d : docs) has_min_count |= d.name == "min_count";
  CHECK(has_min_count);
}

TEST_CASE("plugin loader: a plugin registering a name it did not declare is refused",
          "[plugins][loader][declaration]") {
  std::string path = test_plugin("undeclared_name");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path + ": refused"));
  CHECK_THAT(what, Catch::Contains("registered tokenizer 'test_renamed_words', which its "
                                   "declaration does not list"));
  CHECK_THAT(what, Catch::Contains("it declares tokenizer 'test_declared_words'"));
  CHECK(what.find('\n') == std::string::npos);
  CHECK_FALSE(is_loaded(path));
  CHECK(components_from(path) == 0);
  CHECK_FALSE(Registry::instance().contains("tokenizer", "test_renamed_words"));
  CHECK(Registry::instance().current_source() == "built-in");
}

TEST_CASE("plugin loader: registering around the declaration is refused",
          "[plugins][loader][declaration]") {
  std::string path = test_plugin("around_registrar");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path + ": refused"));
  CHECK_THAT(what, Catch::Contains("registered tokenizer 'test_hidden_words' while its "
                                   "declaration was read"));
  CHECK_THAT(what, Catch::Contains("it declares tokenizer 'test_open_words'"));
  CHECK_FALSE(is_loaded(path));
  CHECK(components_from(path) == 0);
  CHECK_FALSE(Registry::instance().contains("tokenizer", "test_hidden_words"));
  CHECK_FALSE(Registry::instance().contains("tokenizer", "test_open_words"));
}

TEST_CASE("plugin loader: registering from a static initializer is refused, not taken as built-in",
          "[plugins][loader][declaration]") {
  std::string path = test_plugin("registers_at_load");
  std::string what = refusal(path);
  INFO(what);
  CHECK_THAT(what, Catch::StartsWith(path + ": refused"));
  CHECK_THAT(what, Catch::Contains("registered tokenizer 'test_early_words' while being loaded"));
  CHECK_FALSE(is_loaded(path));
  CHECK_FALSE(Registry::instance().contains("tokenizer", "test_early_words"));
  CHECK_FALSE(Registry::instance().contains("tokenizer", "test_late_words"));
  CHECK(Registry::instance().current_source() == "built-in");
}

TEST_CASE("plugin loader: a good plugin's declaration lists what it registers",
          "[plugins][loader][declaration]") {
  std::string path = test_plugin("good_tokenizer");
  REQUIRE_NOTHROW(PluginLoader::instance().load_file(path));
  // Already loaded: RTLD_NOLOAD only finds it (and dlclose drops that reference again).
  void* handle = ::dlopen(fs::canonical(path).c_str(), RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(handle != nullptr);
  using Components = const lmforge::PluginComponent* (*)(std::size_t*);
  auto components = reinterpret_cast<Components>(::dlsym(handle, "lmforge_plugin_components"));
  REQUIRE(components != nullptr);
  std::size_t count = 0;
  const lmforge::PluginComponent* declared = components(&count);
  REQUIRE(count == 1);
  CHECK(std::string(declared[0].kind) == "tokenizer");
  CHECK(std::string(declared[0].name) == "test_reversed_words");
  // Listing ran the registration lines without registering anything a second time.
  CHECK(components_from(path) == 1);
  ::dlclose(handle);
}

TEST_CASE("registry: an unknown name suggests the closest and lists the known ones",
          "[plugins][registry]") {
  lmforge::ConfigNode empty(YAML::Node(YAML::NodeType::Map), "test.yaml", "tokenizer");
  lmforge::YamlOptionReader reader(empty, "tokenizer");
  try {
    Registry::instance().make_tokenizer("wrod", reader, "recipe.yaml:3:5");
    FAIL("unknown tokenizer accepted");
  } catch (const lmforge::ConfigError& e) {
    std::string what = e.what();
    INFO(what);
    CHECK_THAT(what, Catch::StartsWith("recipe.yaml:3:5"));
    CHECK_THAT(what, Catch::Contains("unknown tokenizer 'wrod'"));
    CHECK_THAT(what, Catch::Contains("did you mean 'word'?"));
    CHECK_THAT(what, Catch::Contains("char"));
    CHECK(e.code() == lmforge::ExitCode::kUsage);
  }
  // Nothing close: no suggestion, but still the list.
  try {
    Registry::instance().find("optimizer", "zzzzzzzzzzzz", "here");
    FAIL("unknown optimizer accepted");
  } catch (const lmforge::ConfigError& e) {
    std::string what = e.what();
    CHECK_THAT(what, !Catch::Contains("did you mean"));
    CHECK_THAT(what, Catch::Contains("adamw"));
  }
  CHECK_FALSE(Registry::instance().contains("tokenizer", "wrod"));
  CHECK_FALSE(Registry::instance().contains("no_such_kind", "word"));
}
