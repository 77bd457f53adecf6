// `lmforge export RUN --format safetensors --output FILE`: a trained stage's weights for other
// frameworks, with config.json (components, resolved options, each tensor's role) and vocab.txt.
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "interop/model_export.h"
#include "lmforge/error.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {

int export_command(const Args& args) {
  po::options_description options("lmforge export RUN --output FILE [options]");
  options.add_options()("help,h", "show this help")(
      "format", po::value<std::string>()->default_value("safetensors"),
      "file format (safetensors)")("output,o", po::value<std::string>(),
                                   "the weights file; config.json and vocab.txt go beside it")(
      "check-tokens", po::value<std::int64_t>()->default_value(0),
      "also write check.safetensors: 2 seeded sequences of this many token ids and the "
      "model's logits for them (keep it within the model's window)");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("export", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge export RUN --output FILE [options]", options);
    return 0;
  }
  if (parsed.positional.size() != 1) {
    throw ConfigError("lmforge export",
                      "expected one RUN directory (runs/NAME or runs/NAME/STAGE)");
  }
  const auto format = parsed.values["format"].as<std::string>();
  if (format != "safetensors") {
    throw ConfigError("--format", "unknown format '" + format + "'; formats: safetensors");
  }
  if (!parsed.values.count("output")) throw ConfigError("--output", "is required (a FILE path)");
  const auto check_tokens = parsed.values["check-tokens"].as<std::int64_t>();
  if (check_tokens < 0) throw ConfigError("--check-tokens", "must be 0 or greater");
  load_plugins(parsed);
  configure_runtime(0);
  LoadedStage stage = load_stage(parsed.positional[0]);
  auto summary =
      interop::export_safetensors(stage, parsed.values["output"].as<std::string>(), check_tokens);
  std::cout << "exported " << stage.dir << ": " << summary.tensors << " tensors, "
            << summary.parameters << " parameters, " << summary.bytes << " bytes\n  "
            << summary.weights << "\n  " << summary.config << "\n";
  if (!summary.vocabulary.empty()) std::cout << "  " << summary.vocabulary << "\n";
  if (!summary.check.empty()) std::cout << "  " << summary.check << "\n";
  return 0;
}

}  // namespace lmforge::cli
