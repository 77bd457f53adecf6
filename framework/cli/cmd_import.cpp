// `lmforge import FORMAT SOURCE --output RUN`: a model saved by another framework, read by the
// importer plugin registered as FORMAT (e.g. hf-gpt2), written as a finished lmforge run.
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "interop/model_import.h"
#include "lmforge/error.h"
#include "train/runtime.h"

namespace lmforge::cli {

int import_command(const Args& args) {
  po::options_description options("lmforge import FORMAT SOURCE --output RUN [options]");
  options.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                    "the run directory to write (runs/NAME)")(
      "name", po::value<std::string>()->default_value("imported"), "the stage's name");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("import", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge import FORMAT SOURCE --output RUN [options]", options);
    std::cout << "FORMAT is an importer: `lmforge plugins --kind importer` lists them.\n";
    return 0;
  }
  if (parsed.positional.size() != 2) {
    throw ConfigError("lmforge import", "expected FORMAT and SOURCE (e.g. hf-gpt2 DIR)");
  }
  if (!parsed.values.count("output")) throw ConfigError("--output", "is required (a RUN path)");
  load_plugins(parsed);
  configure_runtime(0);
  auto summary = interop::import_model(parsed.positional[0], parsed.positional[1],
                                       parsed.values["output"].as<std::string>(),
                                       parsed.values["name"].as<std::string>());
  for (const auto& note : summary.notes) std::cout << "import: " << note << "\n";
  std::cout << "imported " << parsed.positional[1] << " into " << summary.stage_dir << ": "
            << summary.tensors << " tensors, " << summary.parameters << " parameters, "
            << summary.vocab_size << " tokens\n";
  return 0;
}

}  // namespace lmforge::cli
