#pragma once
// One stage of a recipe, in the order it runs: prepare (components, tokenizer, the task's data,
// the model) → initialise from earlier work (init.from's parts, init.vectors, LoRA adapters) →
// train → report (summary, samples, `done`). run_recipe is a loop over these.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "lmforge/model.h"
#include "lmforge/task.h"
#include "lmforge/tokenizer.h"
#include "recipe/recipe.h"
#include "train/stage_artifacts.h"

namespace lmforge {

class Communicator;
class LoraAdapters;

class StageRunner {
 public:
  /// `resume`: continue from the stage's checkpoints (the caller has checked its settings).
  /// `world`: the process group when data-parallel, else null.
  StageRunner(const RecipeSpec& recipe, std::size_t index, torch::Device device, bool resume,
              Communicator* world);
  ~StageRunner();

  /// Resolves the components, builds the tokenizer (taken from init or fitted on the task's
  /// data), prepares the task, saves vocab.txt and the task's artifacts, assembles the model.
  void prepare();
  /// Loads the parts init.from names, the input embedding init.vectors gives, attaches LoRA
  /// adapters, moves the model to the device and writes stage.yaml.
  void initialise();
  /// Trains (or resumes) the stage to its end.
  void train();
  /// The task's summary, the adapter checkpoint's size, generated samples, then marks the
  /// stage done.
  void report();

 private:
  void import_init_source();
  void init_from_source();
  TaskContext task_context() const;

  const RecipeSpec& recipe_;
  const std::size_t index_;
  const StageSpec& stage_;
  const std::filesystem::path stage_dir_;
  const torch::Device device_;
  const bool resume_;
  Communicator* world_;

  StageComponents components_;
  std::string source_dir_;  ///< init.from's directory, when given
  std::shared_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<Task> task_;
  std::shared_ptr<Model> model_;
  std::int64_t source_vocabulary_size_ = 0;  ///< before init.vocabulary: extend
  std::string base_checkpoint_;              ///< init.from's checkpoint (LoRA's base)
  std::shared_ptr<LoraAdapters> adapters_;
  Metrics final_metrics_;
};

}  // namespace lmforge
