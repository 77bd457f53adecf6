#include "adapters/adapter_checkpoint.h"

#include <filesystem>
#include <iomanip>
#include <sstream>

#include "config/config_node.h"
#include "config/yaml_options.h"
#include "lmforge/error.h"
#include "train/checkpoint.h"

namespace lmforge {
namespace fs = std::filesystem;

AdapterSpec read_adapter_spec(const YAML::Node& node, const std::string& file) {
  return read_options<AdapterSpec>(ConfigNode(node, file, "adapters"), "adapters");
}

std::shared_ptr<LoraAdapters> load_adapted_backbone(Model& model, const AdapterSpec& spec,
                                                    const std::string& checkpoint_dir,
                                                    const std::string& base) {
  std::error_code ec;
  if (base.empty() || !fs::is_directory(base, ec)) {
    throw DataError((fs::path(checkpoint_dir) / "meta.yaml").string(),
                    "the adapters' base checkpoint '" + base +
                        "' is gone; restore that run, or merge the adapters (lmforge merge) "
                        "while it exists");
  }
  load_part(model.backbone(), base, "backbone");
  auto adapters = std::make_shared<LoraAdapters>(model.backbone(), spec, checkpoint_dir);
  torch::serialize::InputArchive archive;
  read_checkpoint_archive(checkpoint_dir, "adapter.pt", archive);
  adapters->read(archive, (fs::path(checkpoint_dir) / "adapter.pt").string());
  adapters->refresh();
  return adapters;
}

std::uintmax_t file_bytes(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

std::string format_bytes(std::uintmax_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1);
  if (bytes >= (1u << 20)) {
    s << bytes / 1048576.0 << " MiB";
  } else {
    s << bytes / 1024.0 << " KiB";
  }
  return s.str();
}

}  // namespace lmforge
