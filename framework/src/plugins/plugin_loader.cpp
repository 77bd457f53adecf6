#include "plugins/plugin_loader.h"

#define BOOST_DLL_USE_STD_FS
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "compat/torch_compat.h"
#include "lmforge/error.h"
#include "lmforge/plugin.h"
#include "plugins/plugin_declaration.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

constexpr const char* kInfoSymbol = "lmforge_plugin_info";
constexpr const char* kComponentsSymbol = "lmforge_plugin_components";
constexpr const char* kRegisterSymbol = "lmforge_plugin_register";

bool looks_like_plugin_file(const fs::path& path) {
  return path.extension() == ".so" && fs::is_regular_file(path);
}

void check_handshake(const std::string& path, const PluginInfo& info) {
  if (info.abi_version != kAbiVersion) {
    std::ostringstream msg;
    msg << "plugin '" << (info.plugin_name ? info.plugin_name : "?")
        << "' was built for lmforge plugin ABI " << info.abi_version << ", this lmforge speaks ABI "
        << kAbiVersion << "; rebuild the plugin against this SDK";
    throw PluginError(path, msg.str());
  }
  std::string torch = info.torch_version ? info.torch_version : "?";
  if (torch != LMFORGE_TORCH_VERSION_STRING) {
    throw PluginError(path, std::string("plugin '") + info.plugin_name +
                                "' was built against LibTorch " + torch +
                                ", this lmforge uses LibTorch " + LMFORGE_TORCH_VERSION_STRING +
                                "; rebuild the plugin");
  }
  if (info.cxx11_abi != _GLIBCXX_USE_CXX11_ABI) {
    throw PluginError(path, std::string("plugin '") + info.plugin_name +
                                "' was built with a different _GLIBCXX_USE_CXX11_ABI; rebuild it "
                                "with the same compiler settings as lmforge");
  }
}

std::string mode_text(mode_t mode) {
  std::ostringstream s;
  s << "mode " << std::oct << (mode & 07777);
  return s.str();
}

/// Loading a plugin runs its code with the user's rights, so nobody else may be able to change
/// what gets loaded: a file writable by other users, or a folder where they can add or swap
/// files (writable by others and, for a named file, without the sticky bit that stops them
/// renaming over it), is refused. Group-writable is common on shared machines: a warning.
void check_not_writable_by_others(const fs::path& path, bool scanned_folder) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return;  // the load itself names a missing file
  const bool folder = S_ISDIR(info.st_mode);
  const char* what = folder ? "plugin folder" : "plugin file";
  if (info.st_mode & S_IWOTH) {
    const bool sticky = info.st_mode & S_ISVTX;
    if (!folder || scanned_folder || !sticky) {
      throw PluginError(path.string(),
                        std::string("refused: the ") + what + " is writable by every user (" +
                            mode_text(info.st_mode) + "), so anyone could " +
                            (folder ? "put code in it" : "change the code") +
                            " lmforge would run; chmod o-w it or move the plugin elsewhere");
    }
  }
  if ((info.st_mode & S_IWGRP) && !folder) {
    static std::vector<std::string> warned;
    if (std::find(warned.begin(), warned.end(), path.string()) == warned.end()) {
      warned.push_back(path.string());
      std::cerr << "lmforge: warning: " << path.string() << ": the " << what
                << " is writable by its group (" << mode_text(info.st_mode)
                << "); every member can change the code lmforge runs\n";
    }
  }
}

/// Runs a plugin's registration lines (listing or registering), turning what they throw into a
/// PluginError at `path`.
template <class Lines>
auto run_registration_lines(const std::string& path, Lines lines) -> decltype(lines()) {
  try {
    return lines();
  } catch (const Error& e) {
    throw PluginError(path, "registration refused: " + e.message());
  } catch (const std::exception& e) {
    throw PluginError(path, std::string("registration threw: ") + e.what());
  } catch (...) {
    throw PluginError(path, "registration threw a non-standard exception");
  }
}

/// While a plugin loads, every registration is attributed to its file (a static initializer's
/// too, which runs inside dlopen), so none can pass as the core's; "built-in" again afterwards
/// however the load ends.
class AttributeRegistrations {
 public:
  AttributeRegistrations(Registry& registry, const std::string& source) : registry_(registry) {
    registry_.set_current_source(source);
  }
  ~AttributeRegistrations() { registry_.set_current_source("built-in"); }
  AttributeRegistrations(const AttributeRegistrations&) = delete;
  AttributeRegistrations& operator=(const AttributeRegistrations&) = delete;

 private:
  Registry& registry_;
};

}  // namespace

PluginLoader& PluginLoader::instance() {
  static PluginLoader* loader = new PluginLoader();  // never destroyed: plugins stay loaded
  return *loader;
}

void PluginLoader::load_file(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::canonical(path, ec);
  if (ec) throw PluginError(path, "plugin file not found");
  std::string key = canonical.string();
  if (std::find(loaded_paths_.begin(), loaded_paths_.end(), key) != loaded_paths_.end()) return;
  check_not_writable_by_others(canonical, false);
  check_not_writable_by_others(canonical.parent_path(), false);

  Registry& registry = Registry::instance();
  AttributeRegistrations attribute(registry, key);
  try {
    std::string name = load_and_register(path, canonical);
    loaded_paths_.push_back(key);
    loaded_.push_back(LoadedPlugin{key, std::move(name)});
  } catch (...) {
    registry.remove_source(key);  // nothing of a refused plugin stays registered
    throw;
  }
}

std::string PluginLoader::load_and_register(const std::string& path,
                                            const std::filesystem::path& canonical) {
  const std::string key = canonical.string();
  // Heap-allocated and never freed: a plugin's code (vtables, factories) must outlive every
  // object it made, so the library is never unloaded. Kept in a list that is itself never freed,
  // so LeakSanitizer sees it as reachable rather than leaked.
  static auto* libraries = new std::vector<boost::dll::shared_library*>();
  auto* library = new boost::dll::shared_library();
  std::error_code load_error;
  auto mode = boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local;
  if (compat::kDeepBindPlugins) mode = mode | boost::dll::load_mode::rtld_deepbind;
  library->load(canonical, mode, load_error);
  if (load_error) {
    delete library;  // nothing was loaded, so nothing can be unloaded
    std::string why = load_error.message();
    if (const char* dl = ::dlerror()) why = dl;
    // dlerror() starts with the file's name, which the error's place already gives.
    for (const std::string& prefix : {key + ": ", path + ": "}) {
      if (why.rfind(prefix, 0) == 0) {
        why.erase(0, prefix.size());
        break;
      }
    }
    if (why.find("undefined symbol") != std::string::npos) {
      throw PluginError(path, "cannot load: " + why +
                                  " (built against another SDK, or using a symbol the SDK does "
                                  "not export?)");
    }
    throw PluginError(path, "cannot load as a shared library (not a plugin?): " + why);
  }
  libraries->push_back(library);
  if (!library->has(kInfoSymbol) || !library->has(kRegisterSymbol)) {
    throw PluginError(path, "not an lmforge plugin: it does not export " +
                                std::string(kInfoSymbol) +
                                " (declare it with LMFORGE_PLUGIN(name) from <lmforge/plugin.h>)");
  }
  const PluginInfo* info = library->get<const PluginInfo*()>(kInfoSymbol)();
  if (info == nullptr) throw PluginError(path, "plugin handshake returned nothing");
  check_handshake(path, *info);
  if (!library->has(kComponentsSymbol)) {
    throw PluginError(path, std::string("refused: it does not declare its components (no ") +
                                kComponentsSymbol +
                                "; built against an older SDK?); rebuild it against this SDK");
  }

  Registry& registry = Registry::instance();
  const ComponentSet nothing;
  refuse_undeclared(path, registered_from(registry, key), nothing, nullptr,
                    "while being loaded (from a static initializer)");
  std::size_t count = 0;
  const PluginComponent* components = run_registration_lines(path, [&] {
    return library->get<const PluginComponent*(std::size_t*)>(kComponentsSymbol)(&count);
  });
  const ComponentSet declared = read_declaration(path, components, count);
  refuse_undeclared(path, registered_from(registry, key), nothing, &declared,
                    "while its declaration was read");
  run_registration_lines(path, [&] { library->get<void(Registry&)>(kRegisterSymbol)(registry); });
  const ComponentSet registered = registered_from(registry, key);
  refuse_undeclared(path, registered, declared, &declared, "");
  refuse_unregistered(path, declared, registered);
  return info->plugin_name ? info->plugin_name : "?";
}

void PluginLoader::load_directory(const std::string& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) return;
  check_not_writable_by_others(fs::canonical(directory, ec), true);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    if (looks_like_plugin_file(entry.path())) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) load_file(file.string());
}

void PluginLoader::load_paths(const std::vector<std::string>& paths, const std::string& place) {
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      load_directory(path);
    } else if (fs::exists(path, ec)) {
      load_file(path);
    } else {
      throw PluginError(place, "plugin path '" + path + "' does not exist");
    }
  }
}

void PluginLoader::load_default_paths(const std::vector<std::string>& extra) {
  load_directory(bundled_plugin_directory());
  if (const char* env = std::getenv("LMFORGE_PLUGIN_PATH")) {
    std::stringstream paths(env);
    std::string item;
    while (std::getline(paths, item, ':')) {
      // An empty entry means the working directory in $PATH; here it means nothing, so a
      // stray ':' never makes lmforge load whatever .so files lie where it was started.
      if (!item.empty()) load_paths({item}, "$LMFORGE_PLUGIN_PATH");
    }
  }
  load_paths(extra, "--plugin-path");
}

std::string bundled_plugin_directory() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  fs::path bin = exe.parent_path();
  // Build tree: <build>/bin/lmforge + <build>/plugins; install: <prefix>/bin +
  // <prefix>/lib/lmforge/plugins.
  for (const fs::path& candidate :
       {bin.parent_path() / "plugins", bin.parent_path() / "lib" / "lmforge" / "plugins"}) {
    if (fs::is_directory(candidate, ec)) return candidate.string();
  }
  return "";
}

}  // namespace lmforge
