#pragma once
// Shared Boost.Program_options plumbing: parse a sub-command's arguments, turning every error into
// a ConfigError that names the option and suggests the closest known one.
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace lmforge::cli {

namespace po = boost::program_options;

struct Parsed {
  po::variables_map values;
  std::vector<std::string> positional;
};

/// Parses `args` against `options`; positional arguments are collected in order.
Parsed parse_command(const std::string& command, const std::vector<std::string>& args,
                     const po::options_description& options);

/// Adds `--plugin-path` (an extra plugin file or folder, repeatable) to a command's options.
void add_plugin_path_option(po::options_description& options);

/// Loads the bundled plugins, $LMFORGE_PLUGIN_PATH and every `--plugin-path` given to `parsed`.
void load_plugins(const Parsed& parsed);

/// Prints "usage: lmforge COMMAND ..." and the options.
void print_usage(const std::string& usage, const po::options_description& options);

}  // namespace lmforge::cli
