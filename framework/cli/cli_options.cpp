#include "cli_options.h"

#include <iostream>

#include "config/suggest.h"
#include "lmforge/error.h"
#include "plugins/plugin_loader.h"

namespace lmforge::cli {

Parsed parse_command(const std::string& command, const std::vector<std::string>& args,
                     const po::options_description& options) {
  po::options_description all;
  all.add(options);
  all.add_options()("positional", po::value<std::vector<std::string>>(), "");
  po::positional_options_description positional;
  positional.add("positional", -1);
  Parsed parsed;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(),
              parsed.values);
    po::notify(parsed.values);
  } catch (const po::unknown_option& e) {
    std::vector<std::string> known;
    for (const auto& option : options.options()) known.push_back("--" + option->long_name());
    std::string name = e.get_option_name();
    throw ConfigError("lmforge " + command, "unknown option '" + name + "'" +
                                                did_you_mean(name, known) + "; see lmforge " +
                                                command + " --help");
  } catch (const po::error& e) {
    throw ConfigError("lmforge " + command, e.what());
  }
  if (parsed.values.count("positional")) {
    parsed.positional = parsed.values["positional"].as<std::vector<std::string>>();
  }
  return parsed;
}

void add_plugin_path_option(po::options_description& options) {
  options.add_options()("plugin-path", po::value<std::vector<std::string>>()->composing(),
                        "extra plugin file or folder (repeatable)");
}

void load_plugins(const Parsed& parsed) {
  std::vector<std::string> extra;
  if (parsed.values.count("plugin-path")) {
    extra = parsed.values["plugin-path"].as<std::vector<std::string>>();
  }
  PluginLoader::instance().load_default_paths(extra);
}

void print_usage(const std::string& usage, const po::options_description& options) {
  std::cout << "usage: " << usage << "\n\n" << options << "\n";
}

}  // namespace lmforge::cli
