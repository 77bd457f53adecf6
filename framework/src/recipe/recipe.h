#pragma once
// A recipe: stages that run in order, each naming a task, a tokenizer, a backbone and a head, with
// training settings. Loaded from YAML with ${data}/${env:NAME}/${run} interpolation and
// command-line overrides merged in before validation.
#include <exception>
#include <string>
#include <vector>

#include "adapters/adapter_spec.h"
#include "config/config_node.h"
#include "lmforge/options.h"
#include "train/trainer_options.h"

namespace lmforge {

struct InitSpec {
  std::string from;                ///< an earlier stage's name or a run/stage directory
  std::vector<std::string> parts;  ///< tokenizer, backbone, head
  /// keep: the source's vocabulary as is. extend: ULMFiT's vocabulary transfer -- this stage's
  /// words seen at least `min_count` times are added, their rows starting as the mean word.
  std::string vocabulary = "keep";
  std::int64_t min_count = 2;
  /// Pre-trained word vectors for the backbone's input embedding (init/vector_init.h): a file
  /// in `format`, or a run/stage directory whose input embedding is taken.
  std::string vectors;
  /// With vectors: their file format (empty: word2vec). Without: the importer that reads
  /// `from` as another framework's model (lmforge/importer.h); empty: from is lmforge's own.
  std::string format;
  bool freeze = false;  ///< keep the whole input embedding fixed (Kim's "static")
  void visit(OptionVisitor& v);
  bool given() const { return !from.empty(); }
  bool has_vectors() const { return !vectors.empty(); }
  bool has(const std::string& part) const;
  bool extends_vocabulary() const { return vocabulary == "extend"; }
  /// `from` is another framework's model, read by the importer `format` names.
  bool imports() const { return given() && !has_vectors() && !format.empty(); }
};

struct GenerateSpec {
  std::vector<std::string> prompts;
  std::int64_t max_tokens = 40;
  double temperature = 0.8;
  std::int64_t top_k = 0;
  double top_p = 1.0;
  std::int64_t seed = 1;
  void visit(OptionVisitor& v);
};

/// A stage's `train:` section: the loop's settings (train/trainer_options.h) and what the stage
/// runner builds before the loop starts.
struct TrainSpec : TrainerOptions {
  std::int64_t batch_size = 32;
  ComponentSpec optimizer{"adamw", nullptr};
  ComponentSpec schedule{"constant", nullptr};
  double discriminative_lr = 1.0;
  std::vector<std::string> metrics;
  void visit(OptionVisitor& v);
};

struct StageSpec {
  std::string name;
  ComponentSpec task;
  ComponentSpec tokenizer;
  ComponentSpec backbone;
  ComponentSpec head;
  InitSpec init;
  AdapterSpec adapters;
  TrainSpec train;
  GenerateSpec generate;
  bool has_generate = false;
  std::string place;  ///< file:line:col of the stage
  void visit(OptionVisitor& v);
};

struct DataGeneratorSpec {
  std::string type;
  std::int64_t sentences = 20000;
  std::int64_t seed = 1;
  double labelled_fraction = 0.1;
  void visit(OptionVisitor& v);
};

struct RecipeSpec {
  std::string file;
  std::string name;
  std::int64_t seed = 1;
  std::int64_t threads = 0;
  std::string device = "cpu";
  std::vector<std::string> plugins;
  DataGeneratorSpec generate_data;
  std::vector<StageSpec> stages;
  std::string run_dir;
  YAML::Node resolved;  ///< after interpolation and overrides; saved with the run
  /// With RecipeContext::defer_option_errors: what load_recipe would have thrown (a ConfigError
  /// or an ErrorList), rethrown by validate_recipe among its own findings; null when none.
  std::exception_ptr option_errors;
  void visit(OptionVisitor& v);
};

struct RecipeContext {
  std::string data_dir;                ///< --data-dir, else $LMFORGE_DATA, else ./data
  std::string out_dir = "runs";        ///< runs/<recipe name>/...
  std::vector<std::string> overrides;  ///< "stages.pretrain.train.epochs=3"
  /// Keep the option errors of the recipe's own keys (a bad value, an unknown key) in
  /// RecipeSpec::option_errors instead of throwing them, so validate_recipe reports them together
  /// with what only validation finds (a missing file, a component's own check).
  bool defer_option_errors = false;
};

/// Resolves --data-dir / $LMFORGE_DATA / ./data.
std::string resolve_data_dir(const std::string& from_command_line);

/// Loads, interpolates, applies overrides and parses. Throws ConfigError with file:line:col.
RecipeSpec load_recipe(const std::string& path, const RecipeContext& context);

/// Checks names against the registry, parses every component's options, builds each component
/// once, checks data files and stage references — everything short of training. Throws every
/// problem found (and the recipe's deferred option errors) at once.
void validate_recipe(const RecipeSpec& recipe);

/// Index of the stage named `name`, or -1.
int find_stage(const RecipeSpec& recipe, const std::string& name);

}  // namespace lmforge
