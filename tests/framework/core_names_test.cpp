// The core stays open: no file under framework/ names a concrete task, backbone or head. Every
// such component is a plugin, and the core reaches it only through the registry and the SDK's
// interfaces (Task::predict, Task::trains_next_token, ...). The names checked are those the
// build's plugins register, so a new plugin is covered without editing this test.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lmforge/registry.h"
#include "support/build_plugins.h"

namespace fs = std::filesystem;

namespace {

// The file without its comments: a comment may show an example (`reg.backbone<LstmBackbone>`),
// code may not name a component.
std::string code_of(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string source = text.str(), code;
  bool in_string = false;
  for (std::size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if (!in_string && c == '/' && i + 1 < source.size() && source[i + 1] == '/') {
      while (i < source.size() && source[i] != '\n') ++i;
      code += '\n';
      continue;
    }
    if (!in_string && c == '/' && i + 1 < source.size() && source[i + 1] == '*') {
      auto end = source.find("*/", i + 2);
      i = end == std::string::npos ? source.size() : end + 1;
      continue;
    }
    if (c == '"' && (i == 0 || source[i - 1] != '\\')) in_string = !in_string;
    code += c;
  }
  return code;
}

std::vector<fs::path> framework_sources() {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::recursive_directory_iterator(fs::path(LMFORGE_SOURCE_DIR) / "framework")) {
    auto ext = entry.path().extension();
    if (ext == ".cpp" || ext == ".h") files.push_back(entry.path());
  }
  return files;
}

}  // namespace

TEST_CASE("no file under framework/ names a concrete task, backbone or head", "[core]") {
  lmforge::test::load_build_plugins();
  std::set<std::string> names;
  for (const auto& info : lmforge::Registry::instance().components()) {
    if (info.kind == "task" || info.kind == "backbone" || info.kind == "head") {
      if (info.source != "built-in") names.insert(info.name);
    }
  }
  for (const char* expected : {"language_modeling", "classification", "tagging", "lstm", "lm"}) {
    INFO("plugin component " << expected);
    CHECK(names.count(expected) == 1);
  }
  // "word2vec" and "glove" are also the names of vector-file formats (`embed export --format
  // word2vec`, `init: {vectors: FILE, format: word2vec | word2vec-binary | glove}`); that use
  // names a file layout, not the task.
  const std::set<std::pair<std::string, std::string>> file_formats{
      {"cmd_embed.cpp", "word2vec"},   {"recipe.h", "word2vec"},
      {"recipe.cpp", "word2vec"},      {"vector_formats.cpp", "word2vec"},
      {"vector_formats.cpp", "glove"}, {"stage_sources.cpp", "word2vec"}};

  std::vector<std::string> offences;
  const auto files = framework_sources();
  REQUIRE(files.size() > 50);
  for (const auto& path : files) {
    std::string code = code_of(path);
    // Including a plugin's header is naming it too.
    static const std::regex plugin_include(R"(#include\s+"(tasks|models|heads)/)");
    if (std::regex_search(code, plugin_include)) {
      offences.push_back(path.string() + ": includes a plugin's header");
    }
    for (const auto& name : names) {
      if (code.find("\"" + name + "\"") == std::string::npos) continue;
      if (file_formats.count({path.filename().string(), name})) continue;
      offences.push_back(path.string() + ": names \"" + name + "\"");
    }
  }
  for (const auto& offence : offences) UNSCOPED_INFO(offence);
  CHECK(offences.empty());
  std::cout << "core_names: " << files.size() << " framework files, " << names.size()
            << " plugin component names, " << offences.size() << " offences\n";
}

namespace {

// The framework headers and sources a file includes, directly or through other framework
// files (quoted includes resolved against framework/src and framework/include).
void collect_includes(const fs::path& file, std::set<std::string>& seen) {
  static const std::regex quoted(R"re(#include\s+"([^"]+)")re");
  const std::string code = code_of(file);
  for (std::sregex_iterator it(code.begin(), code.end(), quoted), end; it != end; ++it) {
    const std::string name = (*it)[1];
    for (const char* root : {"framework/src", "framework/include"}) {
      const fs::path candidate = fs::path(LMFORGE_SOURCE_DIR) / root / name;
      if (!fs::exists(candidate)) continue;
      if (seen.insert(name).second) collect_includes(candidate, seen);
      break;
    }
  }
}

}  // namespace

TEST_CASE("the trainer includes nothing from recipe/, directly or through its includes", "[core]") {
  // The loop takes a built model, task, optimizer and schedule; recipes build them
  // (recipe/stage_training.h), so the trainer can be driven from code without a recipe.
  std::set<std::string> seen;
  for (const char* file : {"trainer.h", "trainer.cpp", "trainer_state.h", "trainer_state.cpp",
                           "trainer_options.h", "parameter_groups.h", "parameter_groups.cpp"}) {
    collect_includes(fs::path(LMFORGE_SOURCE_DIR) / "framework/src/train" / file, seen);
  }
  std::vector<std::string> from_recipe;
  for (const auto& name : seen) {
    if (name.rfind("recipe/", 0) == 0) from_recipe.push_back(name);
  }
  for (const auto& name : from_recipe) UNSCOPED_INFO("the trainer reaches " << name);
  CHECK(from_recipe.empty());
  CHECK(seen.count("train/trainer_state.h") == 1);  // the walk does follow includes
  std::cout << "core_names: the trainer reaches " << seen.size() << " framework headers, "
            << from_recipe.size() << " of them under recipe/\n";
}
