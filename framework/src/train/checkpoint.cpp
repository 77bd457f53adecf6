#include "train/checkpoint.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "adapters/lora.h"
#include "io/atomic_file.h"
#include "io/sealed_file.h"
#include "lmforge/error.h"
#include "lmforge/vocabulary.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

std::string step_name(std::int64_t global_step) {
  std::ostringstream name;
  name << "step-" << std::setw(8) << std::setfill('0') << global_step;
  return name.str();
}

/// The archive serialised in memory, sealed, then written: LibTorch's writer never touches the
/// disk itself, so a full disk is one of our I/O errors rather than a c10::Error mid-archive.
void save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  std::string sealed = io::seal(bytes.str(), kCheckpointFormat);
  io::write_atomically(path, [&](std::ostream& out) { out.write(sealed.data(), sealed.size()); });
}

void save_module(torch::nn::Module& module, const std::string& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& item : module.named_parameters()) archive.write(item.key(), item.value());
  for (const auto& item : module.named_buffers()) archive.write(item.key(), item.value(), true);
  save_archive(archive, path);
}

bool is_checkpoint_name(const fs::path& path) {
  std::string name = path.filename().string();
  return name.rfind("step-", 0) == 0 && path.extension() != ".tmp";
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

bool grows_with_vocabulary(const torch::Tensor& stored, const torch::Tensor& target,
                           VocabularyGrowth growth) {
  if (growth.to <= growth.from || stored.dim() == 0 || stored.dim() != target.dim()) return false;
  if (stored.size(0) != growth.from || target.size(0) != growth.to) return false;
  for (std::int64_t d = 1; d < stored.dim(); ++d) {
    if (stored.size(d) != target.size(d)) return false;
  }
  return true;
}

/// `rows` with new rows appended up to `size`, each the mean of the existing words' rows (the
/// specials' left out): a new word starts as the average word rather than as noise, as in
/// ULMFiT (Howard & Ruder 2018).
torch::Tensor grow_rows(const torch::Tensor& rows, std::int64_t size) {
  constexpr std::int64_t kFirstWord = Vocabulary::kEos + 1;
  torch::Tensor words = rows.size(0) > kFirstWord ? rows.slice(0, kFirstWord) : rows;
  torch::Tensor mean = words.to(torch::kFloat).mean(0, /*keepdim=*/true).to(rows.scalar_type());
  std::vector<std::int64_t> shape = rows.sizes().vec();
  shape[0] = size - rows.size(0);
  return torch::cat({rows, mean.expand(shape)}, 0);
}

}  // namespace

CheckpointStore::CheckpointStore(std::string stage_dir, std::int64_t keep)
    : stage_dir_(std::move(stage_dir)), keep_(keep) {}

void CheckpointStore::save(
    Model& model, const CheckpointMeta& meta,
    const std::function<void(torch::serialize::OutputArchive&)>& write_trainer) {
  fs::path root = fs::path(stage_dir_) / "checkpoints";
  std::string name = step_name(meta.global_step) + (meta.finished ? "-final" : "");
  fs::path temp = root / (name + ".tmp");
  fs::path final_dir = root / name;
  // One line for whatever went wrong, naming the file and what is still there to resume from.
  auto refuse = [&](const std::string& place, const std::string& what) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    std::string previous;
    try {
      auto intact = latest();
      previous = intact ? "; the previous checkpoint " + *intact +
                              " is intact: free space and continue with --resume"
                        : "; no earlier checkpoint of this stage exists";
    } catch (const Error&) {
      previous = "; no intact earlier checkpoint";
    }
    throw Error(place, "cannot save checkpoint " + name + ": " + what + previous);
  };
  try {
    fs::create_directories(root);
    fs::remove_all(temp);
    fs::create_directories(temp);
    if (adapters_) {
      torch::serialize::OutputArchive archive;
      adapters_->write(archive);
      save_archive(archive, (temp / "adapter.pt").string());
    } else {
      save_module(model.backbone(), (temp / "backbone.pt").string());
    }
    save_module(model.head(), (temp / "head.pt").string());
    torch::serialize::OutputArchive trainer;
    write_trainer(trainer);
    save_archive(trainer, (temp / "trainer.pt").string());
    YAML::Emitter yaml;
    yaml << YAML::BeginMap << YAML::Key << "magic" << YAML::Value << kCheckpointMagic << YAML::Key
         << "format" << YAML::Value << kCheckpointFormat << YAML::Key << "epoch" << YAML::Value
         << meta.epoch << YAML::Key << "step_in_epoch" << YAML::Value << meta.step_in_epoch
         << YAML::Key << "global_step" << YAML::Value << meta.global_step << YAML::Key << "finished"
         << YAML::Value << meta.finished << YAML::Key << "backbone" << YAML::Value
         << meta.backbone_type << YAML::Key << "head" << YAML::Value << meta.head_type;
    if (adapters_) {
      yaml << YAML::Key << "adapters" << YAML::Value << "lora" << YAML::Key << "base" << YAML::Value
           << adapter_base_;
    }
    yaml << YAML::EndMap;
    io::write_text_atomically((temp / "meta.yaml").string(),
                              io::seal_text(std::string(yaml.c_str()) + "\n"));
    io::sync_directory(temp.string());
    fs::remove_all(final_dir);
    fs::rename(temp, final_dir);
    io::sync_directory(root.string());
    io::write_text_atomically((root / "latest").string(), name + "\n");
  } catch (const Error& e) {
    refuse(e.place(), e.message());
  } catch (const fs::filesystem_error& e) {
    refuse(e.path1().empty() ? root.string() : e.path1().string(), e.code().message());
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    refuse(temp.string(), message.substr(0, message.find('\n')));
  }

  // Drop the oldest checkpoints beyond `keep`, never the one `latest` names. A failure here
  // costs only disk space, so it does not stop training.
  std::vector<std::string> all = checkpoint_names();
  for (std::size_t i = 0; i + keep_ < all.size(); ++i) {
    std::error_code ignored;
    if (root / all[i] != final_dir) fs::remove_all(root / all[i], ignored);
  }
}

std::vector<std::string> CheckpointStore::checkpoint_names() const {
  std::vector<std::string> names;
  std::error_code ec;
  fs::path root = fs::path(stage_dir_) / "checkpoints";
  if (!fs::is_directory(root, ec)) return names;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (entry.is_directory(ec) && is_checkpoint_name(entry.path())) {
      names.push_back(entry.path().filename().string());
    }
  }
  // Zero-padded step numbers: name order is step order, and "-final" sorts after its step.
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string> CheckpointStore::newest_intact(std::vector<std::string>& skipped) const {
  fs::path root = fs::path(stage_dir_) / "checkpoints";
  std::vector<std::string> names = checkpoint_names();
  // Start at what `latest` names (a user may point it at an older checkpoint on purpose);
  // without a readable pointer, at the newest directory.
  std::string start;
  try {
    auto pointed = latest();
    if (pointed) start = fs::path(*pointed).filename().string();
  } catch (const Error& e) {
    skipped.push_back(e.place() + ": " + e.message());
  }
  std::vector<std::string> candidates;
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    if (start.empty() || *it <= start) candidates.push_back(*it);
  }
  for (const auto& name : candidates) {
    std::string dir = (root / name).string();
    try {
      verify(dir);
      return dir;
    } catch (const Error& e) {
      skipped.push_back(e.place() + ": " + e.message());
    }
  }
  if (candidates.empty() && skipped.empty()) return std::nullopt;
  std::string reasons;
  for (const auto& line : skipped) reasons += (reasons.empty() ? "" : "; ") + line;
  throw DataError(root.string(), "no intact checkpoint to resume from (" + reasons +
                                     "); run without --resume to start the stage afresh");
}

void CheckpointStore::set_adapters(const LoraAdapters* adapters, std::string base) {
  adapters_ = adapters;
  adapter_base_ = std::move(base);
}

void write_merged_backbone(Model& model, const std::string& checkpoint_dir) {
  // backbone.pt first: a crash before meta.yaml is rewritten leaves an adapter checkpoint that
  // still loads (and can be merged again).
  save_module(model.backbone(), (fs::path(checkpoint_dir) / "backbone.pt").string());
  const std::string path = (fs::path(checkpoint_dir) / "meta.yaml").string();
  CheckpointStore::read_meta(checkpoint_dir);  // refuses a damaged one before it is rewritten
  YAML::Node node = YAML::Load(io::read_text(path));
  YAML::Node kept(YAML::NodeType::Map);
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    if (key == "adapters" || key == "base") continue;
    kept[key] = item.second;
  }
  kept["merged_adapters"] = node["base"].as<std::string>("");
  YAML::Emitter yaml;
  yaml << kept;
  io::write_text_atomically(path, io::seal_text(std::string(yaml.c_str()) + "\n"));
}

void save_checkpoint_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  save_archive(archive, path);
}

void CheckpointStore::verify(const std::string& checkpoint_dir) {
  CheckpointMeta meta = read_meta(checkpoint_dir);
  for (const char* file :
       {meta.adapter_only ? "adapter.pt" : "backbone.pt", "head.pt", "trainer.pt"}) {
    torch::serialize::InputArchive archive;
    read_checkpoint_archive(checkpoint_dir, file, archive);
  }
}

std::optional<std::string> CheckpointStore::latest() const {
  fs::path pointer = fs::path(stage_dir_) / "checkpoints" / "latest";
  std::error_code ec;
  if (!fs::exists(pointer, ec)) return std::nullopt;
  std::string name = io::read_text(pointer.string());
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  fs::path dir = fs::path(stage_dir_) / "checkpoints" / name;
  if (name.empty() || !fs::is_directory(dir, ec)) {
    throw DataError(pointer.string(), "points to a missing checkpoint '" + name + "'");
  }
  return dir.string();
}

CheckpointMeta CheckpointStore::read_meta(const std::string& checkpoint_dir) {
  std::string path = (fs::path(checkpoint_dir) / "meta.yaml").string();
  std::string text = io::read_text(path);
  CheckpointMeta meta;
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    io::unseal_text(text, path);  // a checksum mismatch is the clearer message
    throw DataError(path, std::string("corrupt checkpoint metadata: ") + e.what());
  }
  try {
    if (!node.IsMap() || !node["magic"] || node["magic"].as<std::string>() != kCheckpointMagic) {
      throw DataError(path, "not an lmforge checkpoint (bad magic)");
    }
    int format = node["format"].as<int>();
    if (format > kCheckpointFormat || format < 1) {
      throw DataError(path, "checkpoint format " + std::to_string(format) +
                                ", this lmforge reads format " + std::to_string(kCheckpointFormat) +
                                " and older");
    }
    if (format >= 2) io::unseal_text(text, path);
    meta.epoch = node["epoch"].as<std::int64_t>();
    meta.step_in_epoch = node["step_in_epoch"].as<std::int64_t>();
    meta.global_step = node["global_step"].as<std::int64_t>();
    meta.finished = node["finished"].as<bool>();
    meta.backbone_type = node["backbone"].as<std::string>("");
    meta.head_type = node["head"].as<std::string>("");
    meta.adapter_only = node["adapters"].IsDefined();
    meta.base = node["base"].as<std::string>("");
  } catch (const YAML::Exception& e) {
    throw DataError(path, std::string("corrupt checkpoint metadata: ") + e.what());
  }
  return meta;
}

namespace {
int format_of(const std::string& checkpoint_dir) {
  std::string path = (fs::path(checkpoint_dir) / "meta.yaml").string();
  try {
    return YAML::Load(io::read_text(path))["format"].as<int>();
  } catch (const YAML::Exception&) {
    return kCheckpointFormat;  // read_meta names the damage; the parts are checked by their seal
  }
}
}  // namespace

void read_checkpoint_archive(const std::string& checkpoint_dir, const std::string& file,
                             torch::serialize::InputArchive& archive) {
  std::string path = (fs::path(checkpoint_dir) / file).string();
  std::string bytes = io::read_text(path);
  // Format 1 wrote LibTorch's archive as it is; from format 2 every file is sealed.
  if (format_of(checkpoint_dir) >= 2 || io::looks_sealed(bytes)) {
    bytes = io::unseal(std::move(bytes), path, kCheckpointFormat).contents;
  }
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    throw DataError(path, "cannot read checkpoint file (corrupt or truncated)");
  }
}

std::string load_part(torch::nn::Module& module, const std::string& checkpoint_dir,
                      const std::string& part, bool allow_partial,
                      VocabularyGrowth grown_vocabulary) {
  std::string path = (fs::path(checkpoint_dir) / (part + ".pt")).string();
  torch::serialize::InputArchive archive;
  read_checkpoint_archive(checkpoint_dir, part + ".pt", archive);
  std::vector<std::string> stored = archive.keys();
  std::vector<std::string> missing, unexpected, mismatched;
  // Everything is read and checked before anything is copied: a refused part leaves the module
  // exactly as it was, never half old weights and half new.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (target, value)
  std::set<std::string> known;
  auto visit = [&](const std::string& key, const torch::Tensor& target) {
    known.insert(key);
    if (std::find(stored.begin(), stored.end(), key) == stored.end()) {
      missing.push_back(key);
      return;
    }
    torch::Tensor value;
    archive.read(key, value);
    if (grows_with_vocabulary(value, target, grown_vocabulary)) {
      value = grow_rows(value, grown_vocabulary.to);
    }
    if (value.sizes() != target.sizes()) {
      mismatched.push_back("'" + key + "' is " + shape_text(value) + " in the checkpoint, " +
                           shape_text(target) + " in the model");
      return;
    }
    copies.emplace_back(target, value);
  };
  for (const auto& item : module.named_parameters()) visit(item.key(), item.value());
  for (const auto& item : module.named_buffers()) visit(item.key(), item.value());
  for (const auto& key : stored) {
    if (!known.count(key)) unexpected.push_back(key);
  }
  std::string report;
  if (!missing.empty() || !unexpected.empty()) {
    std::ostringstream s;
    s << part << ": " << missing.size() << " missing key(s)";
    for (const auto& k : missing) s << " " << k;
    s << "; " << unexpected.size() << " unexpected key(s)";
    for (const auto& k : unexpected) s << " " << k;
    report = s.str();
    if (!allow_partial) throw ConfigError(path, "checkpoint does not fit the model: " + report);
  }
  if (!mismatched.empty()) {
    std::string list;
    for (const auto& m : mismatched) list += (list.empty() ? "" : "; ") + m;
    throw ConfigError(path, "cannot load the " + part + ": " + std::to_string(mismatched.size()) +
                                " tensor(s) have another shape than this model's (a different "
                                "vocabulary or different sizes?): " +
                                list);
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
  return report;
}

void load_trainer_archive(const std::string& checkpoint_dir,
                          const std::function<void(torch::serialize::InputArchive&)>& read) {
  std::string path = (fs::path(checkpoint_dir) / "trainer.pt").string();
  torch::serialize::InputArchive archive;
  read_checkpoint_archive(checkpoint_dir, "trainer.pt", archive);
  try {
    read(archive);
  } catch (const c10::Error& e) {
    throw DataError(path, "cannot read trainer state (corrupt or truncated checkpoint)");
  }
}

}  // namespace lmforge
