#pragma once
// Checkpoints: a directory per checkpoint (backbone.pt, head.pt, trainer.pt, meta.yaml) written
// under a temporary name and renamed into place, then `latest` is switched atomically. A run
// killed at any moment still has its previous checkpoint intact.
//
// Format 2 seals every file (io/sealed_file.h: magic number, format version, size and CRC-32 of
// the contents; meta.yaml ends with its own checksum line), so a truncated or damaged file is
// named when read instead of loading as garbage. Format 1 checkpoints (unsealed) still load.
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lmforge/model.h"

namespace lmforge {

inline constexpr const char* kCheckpointMagic = "lmforge-checkpoint";
inline constexpr int kCheckpointFormat = 2;

struct CheckpointMeta {
  std::int64_t epoch = 0;          ///< epoch to continue in
  std::int64_t step_in_epoch = 0;  ///< next step within that epoch
  std::int64_t global_step = 0;
  bool finished = false;  ///< training of the stage completed
  std::string backbone_type;
  std::string head_type;
  /// An adapter stage's checkpoint holds adapter.pt (A and B only) instead of backbone.pt; its
  /// backbone is the one in `base`, the checkpoint it was initialised from (adapters/lora.h).
  bool adapter_only = false;
  std::string base;
};

class LoraAdapters;

class CheckpointStore {
 public:
  explicit CheckpointStore(std::string stage_dir, std::int64_t keep = 2);

  /// Writes model parts, the meta data and `write_trainer` (optimizer, RNG, task state...), then
  /// drops the oldest checkpoints beyond `keep`. On any failure (disk full, read-only folder)
  /// throws Error naming the file and the checkpoint that is still intact, and leaves the
  /// earlier checkpoints and `latest` as they were.
  void save(Model& model, const CheckpointMeta& meta,
            const std::function<void(torch::serialize::OutputArchive&)>& write_trainer);
  /// Directory of the latest checkpoint, or nullopt when there is none.
  std::optional<std::string> latest() const;

  /// What --resume starts from: the checkpoint `latest` names if every file of it is intact,
  /// else the newest older one that is. `skipped` gets one line per checkpoint passed over,
  /// naming its damaged file. nullopt when the stage has no checkpoint; throws DataError when
  /// it has some but none is intact.
  std::optional<std::string> newest_intact(std::vector<std::string>& skipped) const;

  /// Names of the checkpoint directories (step-...), oldest first.
  std::vector<std::string> checkpoint_names() const;

  /// Reads meta.yaml; throws DataError naming it when it is damaged, not a checkpoint's, or of a
  /// newer format (both versions named).
  static CheckpointMeta read_meta(const std::string& checkpoint_dir);
  /// Reads and checks every file of a checkpoint; throws DataError naming the first bad one.
  static void verify(const std::string& checkpoint_dir);

  const std::string& stage_dir() const { return stage_dir_; }

  /// From now on save() writes `adapters` (adapter.pt) in place of the backbone, whose weights
  /// are those of the checkpoint `base` plus the adapters.
  void set_adapters(const LoraAdapters* adapters, std::string base);

 private:
  std::string stage_dir_;
  std::int64_t keep_;
  const LoraAdapters* adapters_ = nullptr;
  std::string adapter_base_;
};

/// Loads "backbone" or "head" parameters/buffers from `checkpoint_dir` into `module`.
/// Missing and unexpected keys are refused unless `allow_partial`, and are returned as a report
/// line; shape mismatches are always refused (ConfigError naming the part and, for every such key,
/// both shapes). A refused load changes nothing in `module`.
///
/// `grown_vocabulary` (ULMFiT's vocabulary transfer) names the source's vocabulary size and this
/// model's larger one: a tensor whose first dimension is the source's size where the model's is
/// the larger one (embedding rows, a tied or untied output layer, its bias) keeps the source's rows
/// for the old ids, and every new id's row starts as the mean of the source's rows.
struct VocabularyGrowth {
  std::int64_t from = 0;
  std::int64_t to = 0;
};
std::string load_part(torch::nn::Module& module, const std::string& checkpoint_dir,
                      const std::string& part, bool allow_partial = false,
                      VocabularyGrowth grown_vocabulary = {});

/// Opens one archive of a checkpoint (backbone.pt, head.pt, trainer.pt) after checking its seal;
/// throws DataError naming the file when it is missing, truncated, damaged or of a newer format.
void read_checkpoint_archive(const std::string& checkpoint_dir, const std::string& file,
                             torch::serialize::InputArchive& archive);

/// Folds an adapter checkpoint: writes `model`'s backbone (already base + adapters) as
/// backbone.pt and drops the adapter marks from meta.yaml, so the checkpoint loads as any other.
/// adapter.pt stays for the record.
void write_merged_backbone(Model& model, const std::string& checkpoint_dir);

/// Writes an archive sealed as every checkpoint file is (atomically).
void save_checkpoint_archive(torch::serialize::OutputArchive& archive, const std::string& path);

/// Loads the trainer archive of a checkpoint.
void load_trainer_archive(const std::string& checkpoint_dir,
                          const std::function<void(torch::serialize::InputArchive&)>& read);

}  // namespace lmforge
