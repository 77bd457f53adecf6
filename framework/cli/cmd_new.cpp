// `lmforge new plugin NAME --kind backbone|head|task [--dir DIR]`: writes a plugin project that
// builds against the installed SDK (find_package(lmforge) + lmforge_add_plugin), with a Catch2 test
// and a recipe that trains with the plugin on data the recipe generates itself.
//
// The templates are real files (tools/plugin_template/), compiled and tested in the tree and
// embedded into the CLI at build time (plugin_templates.h), so the CLI reads nothing at run time
// and a template can never go missing from an install. The SDK test (tests/sdk/) builds and runs
// the generated projects.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli.h"
#include "cli_options.h"
#include "config/suggest.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "plugin_templates.h"
#include "plugins/plugin_loader.h"

namespace lmforge::cli {
namespace {
namespace fs = std::filesystem;

// One template project per folder of tools/plugin_template/: a plugin named my_FOLDER (class
// MyFolder) that the tree compiles and tests as it is (tests/CMakeLists.txt); `lmforge new`
// writes it under the user's name. CMakeLists.txt.in is shared and uses @name@.
struct Template {
  const char* kind;     // the component kind it registers (--kind)
  const char* name;     // --template; the first of a kind is its default
  const char* folder;   // under tools/plugin_template
  const char* summary;  // what the generated component is, for the closing message
};

const std::vector<Template>& templates() {
  static const std::vector<Template> all{
      {"backbone", "recurrent", "backbone", "a GRU backbone (embedding + stacked GRU)"},
      {"backbone", "bag", "bag",
       "a bag-of-embeddings encoder (mean token vector + tanh layer; not recurrent)"},
      {"head", "mlp", "head", "a classifier head (masked mean pooling + MLP)"},
      {"task", "sentences", "task", "a sentence language-modelling task (padded batches)"},
  };
  return all;
}

// Every occurrence of each key replaced by its value (whole text, left to right, the replaced
// text never rescanned).
std::string substitute(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    for (std::size_t at = text.find(key); at != std::string::npos;
         at = text.find(key, at + value.size())) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

// The shared CMakeLists.txt.in marks the plugin's name as @name@.
std::string substitute_marks(const std::string& text, const std::string& name) {
  return substitute(text, {{"@name@", name}});
}

// my_gru -> MyGru
std::string class_name(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

// The name is a recipe `type:`, a C++ namespace prefix, a file name and a CMake target, so it must
// suit all four.
void check_name(const std::string& name) {
  auto fail = [&](const std::string& why) {
    throw ConfigError("lmforge new plugin", "plugin name '" + name + "' " + why);
  };
  if (name.empty()) fail("is empty");
  if (name.size() > 64) fail("is longer than 64 characters");
  if (!(name[0] >= 'a' && name[0] <= 'z')) {
    fail("must start with a lowercase letter (e.g. my_gru)");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      fail("may hold only lowercase letters, digits and '_' (e.g. my_gru)");
    }
  }
  if (name.find("__") != std::string::npos) fail("must not contain '__' (reserved in C++)");
  // lmforge_*.so are the bundled plugins' files, and `lmforge` the SDK's CMake package.
  if (name.rfind("lmforge", 0) == 0) fail("must not start with 'lmforge' (the SDK's own names)");
  // Target names CMake reserves for itself.
  for (const char* reserved : {"all", "clean", "help", "install", "test", "package", "edit_cache",
                               "rebuild_cache", "list_install_components"}) {
    if (name == reserved) fail("is a target name CMake reserves; choose another");
  }
}

// A plugin registering a name that is already taken is refused at load time; say so now.
void check_not_taken(const std::string& kind, const std::string& name) {
  try {
    PluginLoader::instance().load_directory(bundled_plugin_directory());
  } catch (const Error&) {
    // A broken bundled plugin is reported by the commands that need it, not here.
  }
  Registry& registry = Registry::instance();
  if (registry.contains(kind, name)) {
    const std::string source = registry.find(kind, name, "").source;
    throw ConfigError("lmforge new plugin", "a " + kind + " named '" + name + "' already exists (" +
                                                source +
                                                "); a plugin registering it again would be "
                                                "refused, so choose another name");
  }
}

std::string shell_quote(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text) {
    plain &= std::isalnum(static_cast<unsigned char>(c)) ||
             std::string("/._-+=:,@").find(c) != std::string::npos;
  }
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The prefix this CLI was installed to, when it carries the CMake package; empty otherwise (e.g.
// the CLI of a build tree).
std::string installed_prefix() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  fs::path prefix = exe.parent_path().parent_path();
  for (const char* libdir : {"lib", "lib64"}) {
    if (fs::exists(prefix / libdir / "cmake" / "lmforge" / "lmforgeConfig.cmake", ec)) {
      return prefix.string();
    }
  }
  return "";
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw Error(path.string(), "cannot write file");
}

}  // namespace

int new_command(const Args& args) {
  po::options_description options("lmforge new plugin NAME --kind KIND [options]");
  options.add_options()("help,h", "show this help")("kind", po::value<std::string>(),
                                                    "backbone, head or task")(
      "dir", po::value<std::string>(), "folder to create (default: ./NAME); must not exist")(
      "template", po::value<std::string>(),
      "which template of the kind: backbone recurrent (default) or bag; head mlp; task "
      "sentences");
  Parsed parsed = parse_command("new", args, options);
  const std::string usage =
      "lmforge new plugin NAME --kind backbone|head|task [--template T] [--dir DIR]";
  if (parsed.values.count("help")) {
    print_usage(usage, options);
    return 0;
  }
  if (parsed.positional.empty())
    throw ConfigError("lmforge new", "nothing to create; usage: " + usage);
  if (parsed.positional[0] != "plugin") {
    throw ConfigError("lmforge new", "cannot create '" + parsed.positional[0] + "'" +
                                         did_you_mean(parsed.positional[0], {"plugin"}) +
                                         "; usage: " + usage);
  }
  if (parsed.positional.size() != 2) {
    throw ConfigError("lmforge new plugin", "expected one NAME; usage: " + usage);
  }
  const std::string name = parsed.positional[1];
  check_name(name);

  std::vector<std::string> kind_names;
  for (const auto& t : templates()) {
    if (kind_names.empty() || kind_names.back() != t.kind) kind_names.push_back(t.kind);
  }
  if (!parsed.values.count("kind")) {
    throw ConfigError("lmforge new plugin", "--kind is required: one of " + join_names(kind_names));
  }
  const std::string kind_name = parsed.values["kind"].as<std::string>();
  if (std::find(kind_names.begin(), kind_names.end(), kind_name) == kind_names.end()) {
    throw ConfigError("--kind", "unknown kind '" + kind_name + "'" +
                                    did_you_mean(kind_name, kind_names) +
                                    "; kinds: " + join_names(kind_names));
  }
  const Template* kind = nullptr;
  std::vector<std::string> template_names;
  const std::string wanted =
      parsed.values.count("template") ? parsed.values["template"].as<std::string>() : "";
  for (const auto& t : templates()) {
    if (kind_name != t.kind) continue;
    template_names.push_back(t.name);
    if (kind == nullptr && (wanted.empty() || wanted == t.name)) kind = &t;
  }
  if (kind == nullptr) {
    throw ConfigError("--template", "no template '" + wanted + "' for --kind " + kind_name +
                                        did_you_mean(wanted, template_names) +
                                        "; templates: " + join_names(template_names));
  }
  check_not_taken(kind->kind, name);

  const std::string dir_arg =
      parsed.values.count("dir") ? parsed.values["dir"].as<std::string>() : name;
  if (dir_arg.empty()) throw ConfigError("--dir", "is empty; give the folder to create");
  fs::path dir = fs::path(dir_arg).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "my_gru/" names the folder my_gru
  std::error_code ec;
  if (fs::exists(dir, ec) || fs::is_symlink(dir, ec)) {
    throw ConfigError(dir_arg,
                      "already exists; lmforge new never overwrites: remove it or choose "
                      "another folder with --dir");
  }

  // The template's own names (my_backbone, MyBackbone) become the plugin's.
  const std::string template_name = std::string("my_") + kind->folder;
  const std::map<std::string, std::string> values{{template_name, name},
                                                  {class_name(template_name), class_name(name)}};
  const auto& templates = plugin_template_files();
  auto text_of = [&](const std::string& key) -> const std::string& {
    auto it = templates.find(key);
    if (it == templates.end()) throw Error("lmforge new", "template '" + key + "' is missing");
    return it->second;
  };
  std::vector<std::pair<std::string, std::string>> files{
      {"CMakeLists.txt", substitute_marks(text_of("CMakeLists.txt.in"), name)},
      {".gitignore", text_of("gitignore")},
  };
  const std::string folder = std::string(kind->folder) + "/";
  for (const auto& [key, text] : templates) {
    if (key.rfind(folder, 0) != 0) continue;
    std::string file = key.substr(folder.size());
    if (file.rfind(template_name, 0) == 0) file = name + file.substr(template_name.size());
    files.emplace_back(file, substitute(text, values));
  }

  // Written next to the target and renamed into place, so a failure never leaves half a project.
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  fs::create_directories(parent, ec);
  if (ec) throw Error(parent.string(), "cannot create folder: " + ec.message());
  const fs::path staging =
      parent / ("." + dir.filename().string() + ".new-" + std::to_string(::getpid()));
  try {
    fs::remove_all(staging);
    fs::create_directory(staging);
    for (const auto& [file, text] : files) write_file(staging / file, text);
    fs::rename(staging, dir);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging, ec);
    throw Error(dir_arg, std::string("cannot write the plugin project: ") + e.code().message());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }

  const std::string d = shell_quote(dir.string());
  const std::string prefix = installed_prefix();
  std::cout << "created " << dir.string() << "/: " << kind->summary << " registered as '" << name
            << "'\n"
            << "  " << name << ".h, " << name << ".cpp   the " << kind->kind
            << ", its options and its registration\n"
            << "  " << name << "_test.cpp        Catch2 test (ctest)\n"
            << "  CMakeLists.txt         find_package(lmforge) + lmforge_add_plugin(" << name
            << " ...)\n"
            << "  recipe.yaml            trains with it on data the recipe generates\n"
            << "next:\n"
            << "  cmake -S " << d << " -B " << d << "/build -DCMAKE_PREFIX_PATH="
            << (prefix.empty() ? "<lmforge install prefix>" : shell_quote(prefix)) << "\n"
            << "  cmake --build " << d << "/build --parallel\n"
            << "  ctest --test-dir " << d << "/build\n"
            << "  lmforge run " << d << "/recipe.yaml --plugin-path " << d << "/build\n";
  if (prefix.empty()) {
    std::cout << "(this lmforge is not an installed SDK; install one with "
                 "`cmake --install build --prefix PREFIX`)\n";
  }
  return 0;
}

}  // namespace lmforge::cli
