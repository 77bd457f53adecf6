// `lmforge report RUN [--out FILE]`: one self-contained HTML page for a run (curves, confusion
// matrix, embedding map, samples, recipe) that opens anywhere without a network.
#include <filesystem>
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "lmforge/error.h"
#include "report/html_report.h"
#include "train/runtime.h"

namespace lmforge::cli {

int report_command(const Args& args) {
  po::options_description options("lmforge report RUN [options]");
  options.add_options()("help,h", "show this help")(
      "out", po::value<std::string>(), "where to write the page (default: RUN/report.html)");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("report", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge report RUN [options]", options);
    return 0;
  }
  if (parsed.positional.size() != 1) {
    throw ConfigError("lmforge report", "expected one RUN directory (runs/NAME)");
  }
  const std::string run = parsed.positional[0];
  if (!std::filesystem::is_directory(run)) throw DataError(run, "is not a directory");
  std::string out = parsed.values.count("out")
                        ? parsed.values["out"].as<std::string>()
                        : (std::filesystem::path(run) / "report.html").string();
  // The embedding maps rebuild each stage's model, whose components may live in plugins.
  load_plugins(parsed);
  configure_runtime(0);
  int charts = report::write_report(run, out);
  std::cout << "report: " << out << " (" << charts << " charts)\n";
  return 0;
}

}  // namespace lmforge::cli
