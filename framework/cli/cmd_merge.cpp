// `lmforge merge RUN`: folds a LoRA stage's adapters into its backbone (W = W0 + (alpha/rank)·B·A),
// so its checkpoint no longer needs the base run and loads as any other.
#include <filesystem>
#include <iostream>

#include "adapters/adapter_checkpoint.h"
#include "cli.h"
#include "cli_options.h"
#include "lmforge/error.h"
#include "train/checkpoint.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {
namespace fs = std::filesystem;

int merge_command(const Args& args) {
  po::options_description options("lmforge merge RUN [options]");
  options.add_options()("help,h", "show this help");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("merge", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge merge RUN", options);
    return 0;
  }
  if (parsed.positional.size() != 1) {
    throw ConfigError("lmforge merge", "expected one RUN directory (runs/NAME or runs/NAME/STAGE)");
  }
  load_plugins(parsed);
  configure_runtime(0);
  // A stage directory as given, or a run's last stage whose checkpoint holds adapters.
  auto holds_adapters = [](const std::string& stage_dir) {
    auto latest = CheckpointStore(stage_dir).latest();
    return latest && CheckpointStore::read_meta(*latest).adapter_only;
  };
  LoadedStage stage = load_stage(parsed.positional[0], holds_adapters, "with LoRA adapters");
  CheckpointMeta meta = CheckpointStore::read_meta(stage.checkpoint);
  if (!meta.adapter_only) {
    throw ConfigError(stage.dir, "its checkpoint " + stage.checkpoint +
                                     " holds no adapters to merge (trained without `adapters:`, "
                                     "or merged already)");
  }
  // load_stage has put base + adapters into the backbone.
  write_merged_backbone(*stage.model, stage.checkpoint);
  std::cout << "merged the adapters of " << stage.checkpoint << " into its backbone ("
            << format_bytes(file_bytes((fs::path(stage.checkpoint) / "backbone.pt").string()))
            << "); it no longer needs " << meta.base << "\n";
  return 0;
}

}  // namespace lmforge::cli
