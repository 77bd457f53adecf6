#pragma once
// What a finished (or checkpointed) stage leaves in its directory, and how to rebuild its model:
// stage.yaml (the stage's resolved components + sizes), vocab.txt, checkpoints/, metrics.jsonl.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <memory>
#include <string>

#include "lmforge/model.h"
#include "lmforge/options.h"
#include "lmforge/task.h"
#include "lmforge/tokenizer.h"

namespace lmforge {

struct StageComponents {
  ComponentSpec task, tokenizer, backbone, head;
};

/// A stage rebuilt from its directory.
struct LoadedStage {
  std::string dir;
  std::string checkpoint;  ///< latest checkpoint directory
  StageComponents components;
  std::shared_ptr<Tokenizer> tokenizer;
  std::shared_ptr<Model> model;  ///< null when the stage has no checkpoint
  std::shared_ptr<Task> task;    ///< constructed (not prepared); artifacts loaded
};

/// Writes stage.yaml (with the stage's `adapters:` settings when it trains LoRA adapters).
void save_stage_description(const std::string& stage_dir, const StageComponents& components,
                            std::int64_t vocab_size, std::int64_t num_outputs,
                            const YAML::Node& adapters = YAML::Node());

/// Reads stage.yaml; throws DataError naming the file when it is missing or malformed.
StageComponents read_stage_components(const std::string& stage_dir);
/// The components of a stage description already parsed (`file` names it in messages).
StageComponents stage_components_of(const YAML::Node& root, const std::string& file);

/// Builds a tokenizer from `spec` (default: word) and, if given, loads `vocab_path`.
std::shared_ptr<Tokenizer> build_tokenizer(const ComponentSpec& spec,
                                           const std::string& vocab_path);

/// The model of a stage: its backbone over `vocab_size` tokens and its head on top with
/// `num_outputs` outputs. The one place a model is assembled, for a run and for a finished stage.
std::shared_ptr<Model> assemble_model(const StageComponents& components, std::int64_t vocab_size,
                                      std::int64_t num_outputs);

/// Rebuilds tokenizer, model (weights from the latest checkpoint; for an adapter checkpoint the
/// base's backbone with the adapters folded in) and task of a stage directory.
/// `dir` may also be a run directory: then its last stage with a checkpoint whose task type is
/// `task_type` (any task when empty) is used.
LoadedStage load_stage(const std::string& dir, const std::string& task_type = "");

/// Accepts or skips a stage directory of a run.
using StageFilter = std::function<bool(const std::string& stage_dir)>;
/// As above, taking the last stage with a checkpoint that `accept` accepts (`wanted` completes
/// the message when none does, e.g. "whose task labels texts").
LoadedStage load_stage(const std::string& dir, const StageFilter& accept,
                       const std::string& wanted);

/// Whether the task of the stage in `stage_dir` labels texts (Task::can_predict).
bool stage_task_can_predict(const std::string& stage_dir);
/// Whether the task of the stage in `stage_dir` trains a next-token model
/// (Task::trains_next_token).
bool stage_task_trains_next_token(const std::string& stage_dir);
/// Whether the task of the stage in `stage_dir` translates (lmforge/seq2seq.h's Translator).
bool stage_task_translates(const std::string& stage_dir);

}  // namespace lmforge
