#include "train/checkpoint.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "io/atomic_file.h"
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

void save_module(torch::nn::Module& module, const std::string& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& item : module.named_parameters()) archive.write(item.key(), item.value());
  for (const auto& item : module.named_buffers()) archive.write(item.key(), item.value(), true);
  io::write_atomically(path, [&](std::ostream& out) { archive.save_to(out); });
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
  fs::create_directories(root);
  std::string name = step_name(meta.global_step) + (meta.finished ? "-final" : "");
  fs::path temp = root / (name + ".tmp");
  fs::path final_dir = root / name;
  fs::remove_all(temp);
  fs::create_directories(temp);
  save_module(model.backbone(), (temp / "backbone.pt").string());
  save_module(model.head(), (temp / "head.pt").string());
  torch::serialize::OutputArchive trainer;
  write_trainer(trainer);
  io::write_atomically((temp / "trainer.pt").string(),
                       [&](std::ostream& out) { trainer.save_to(out); });
  YAML::Emitter yaml;
  yaml << YAML::BeginMap << YAML::Key << "magic" << YAML::Value << kCheckpointMagic << YAML::Key
       << "format" << YAML::Value << kCheckpointFormat << YAML::Key << "epoch" << YAML::Value
       << meta.epoch << YAML::Key << "step_in_epoch" << YAML::Value << meta.step_in_epoch
       << YAML::Key << "global_step" << YAML::Value << meta.global_step << YAML::Key << "finished"
       << YAML::Value << meta.finished << YAML::Key << "backbone" << YAML::Value
       << meta.backbone_type << YAML::Key << "head" << YAML::Value << meta.head_type
       << YAML::EndMap;
  io::write_text_atomically((temp / "meta.yaml").string(), std::string(yaml.c_str()) + "\n");
  io::sync_directory(temp.string());
  fs::remove_all(final_dir);
  fs::rename(temp, final_dir);
  io::sync_directory(root.string());
  io::write_text_atomically((root / "latest").string(), name + "\n");

  // Drop the oldest checkpoints beyond `keep`, never the one `latest` names.
  std::vector<fs::path> all;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory() && entry.path().extension() != ".tmp") all.push_back(entry.path());
  }
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i + keep_ < all.size(); ++i) {
    if (all[i] != final_dir) fs::remove_all(all[i]);
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
  CheckpointMeta meta;
  try {
    YAML::Node node = YAML::LoadFile(path);
    if (!node["magic"] || node["magic"].as<std::string>() != kCheckpointMagic) {
      throw DataError(path, "not an lmforge checkpoint (bad magic)");
    }
    int format = node["format"].as<int>();
    if (format != kCheckpointFormat) {
      throw DataError(path, "checkpoint format " + std::to_string(format) +
                                ", this lmforge reads " + std::to_string(kCheckpointFormat));
    }
    meta.epoch = node["epoch"].as<std::int64_t>();
    meta.step_in_epoch = node["step_in_epoch"].as<std::int64_t>();
    meta.global_step = node["global_step"].as<std::int64_t>();
    meta.finished = node["finished"].as<bool>();
    meta.backbone_type = node["backbone"].as<std::string>("");
    meta.head_type = node["head"].as<std::string>("");
  } catch (const YAML::Exception& e) {
    throw DataError(path, std::string("corrupt checkpoint metadata: ") + e.what());
  }
  return meta;
}

std::string load_part(torch::nn::Module& module, const std::string& checkpoint_dir,
                      const std::string& part, bool allow_partial,
                      VocabularyGrowth grown_vocabulary) {
  std::string path = (fs::path(checkpoint_dir) / (part + ".pt")).string();
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw DataError(path, "cannot read checkpoint part '" + part + "' (corrupt or truncated)");
  }
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
  try {
    archive.load_from(path);
    read(archive);
  } catch (const c10::Error& e) {
    throw DataError(path, "cannot read trainer state (corrupt or truncated checkpoint)");
  }
}

}  // namespace lmforge
