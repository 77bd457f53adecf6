#pragma once
// An adapter stage on disk: its stage.yaml keeps the `adapters:` settings, each checkpoint holds
// adapter.pt (A and B only) and names in meta.yaml the base checkpoint whose backbone it adapts.
#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>

#include "adapters/lora.h"
#include "lmforge/model.h"

namespace lmforge {

/// The adapter settings saved in a stage.yaml's `adapters:` (`file` names it in errors).
AdapterSpec read_adapter_spec(const YAML::Node& node, const std::string& file);

/// Loads the base checkpoint's backbone into `model`, then the adapters of `checkpoint_dir` on
/// top (W = W0 + s·B·A). Throws DataError naming the base when it is gone or damaged.
std::shared_ptr<LoraAdapters> load_adapted_backbone(Model& model, const AdapterSpec& spec,
                                                    const std::string& checkpoint_dir,
                                                    const std::string& base);

/// Size in bytes of a file (0 when absent), for the size report.
std::uintmax_t file_bytes(const std::string& path);

/// "1.2 MiB", "340 KiB".
std::string format_bytes(std::uintmax_t bytes);

}  // namespace lmforge
