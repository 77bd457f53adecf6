#include "recipe/run_recipe.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "adapters/adapter_checkpoint.h"
#include "adapters/lora.h"
#include "config/error_list.h"
#include "config/suggest.h"
#include "config/yaml_options.h"
#include "data/toy_grammar.h"
#include "distributed/communicator.h"
#include "generate/sampler.h"
#include "init/vector_init.h"
#include "io/atomic_file.h"
#include "lmforge/backbone.h"
#include "lmforge/error.h"
#include "lmforge/head.h"
#include "lmforge/labelled_task.h"
#include "lmforge/metric.h"
#include "lmforge/registry.h"
#include "lmforge/task.h"
#include "lmforge/text_file.h"
#include "lmforge/vocabulary.h"
#include "plugins/plugin_loader.h"
#include "recipe/stage_settings.h"
#include "train/checkpoint.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"
#include "train/trainer.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

/// Where `init.from` points: an earlier stage of this recipe, or a directory.
std::string init_source_dir(const RecipeSpec& recipe, std::size_t stage_index) {
  const StageSpec& stage = recipe.stages[stage_index];
  int source = find_stage(recipe, stage.init.from);
  if (source >= 0) {
    if (static_cast<std::size_t>(source) >= stage_index) {
      throw ConfigError(stage.place, "init.from '" + stage.init.from +
                                         "' must name an earlier stage, not this or a later one");
    }
    return (fs::path(recipe.run_dir) / stage.init.from).string();
  }
  // A path is taken as written: relative to the working directory, as every path on the
  // command line (documented in `lmforge plugins --describe` under init.from).
  std::error_code ec;
  fs::path tried = fs::absolute(stage.init.from, ec).lexically_normal();
  if (fs::is_directory(tried, ec)) return tried.string();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < stage_index; ++i) names.push_back(recipe.stages[i].name);
  std::string message = "init.from '" + stage.init.from + "' is neither an earlier stage (" +
                        (names.empty() ? std::string("none") : join_names(names)) +
                        ") nor an existing directory: looked for " + tried.string() +
                        " (relative paths start at the working directory)";
  // The likeliest slip: a path written relative to the recipe's own folder.
  fs::path beside =
      (fs::absolute(recipe.file, ec).parent_path() / stage.init.from).lexically_normal();
  if (fs::path(stage.init.from).is_relative() && fs::is_directory(beside, ec)) {
    message += "; " + beside.string() + " exists: give that path";
  }
  throw ConfigError(stage.place, message + did_you_mean(stage.init.from, names));
}

void check_init_parts(const StageSpec& stage) {
  for (const auto& part : stage.init.parts) {
    if (part != "tokenizer" && part != "backbone" && part != "head") {
      throw ConfigError(stage.place,
                        "init.parts: unknown part '" + part + "'; use tokenizer, backbone, head");
    }
  }
  if (!stage.init.given() && (!stage.init.parts.empty() || stage.init.extends_vocabulary())) {
    throw ConfigError(stage.place + " init",
                      "init.parts and init.vocabulary take parts from an earlier stage: give "
                      "init.from");
  }
  if (!stage.init.has_vectors() && stage.init.freeze) {
    throw ConfigError(stage.place + " init.freeze",
                      "init.freeze keeps pre-trained vectors fixed: give init.vectors");
  }
  if (stage.adapters.given() && !stage.init.has("backbone")) {
    throw ConfigError(stage.place + " adapters",
                      "adapters adapt a pre-trained backbone: add `init: {from: STAGE, parts: "
                      "[tokenizer, backbone]}`");
  }
  if (stage.adapters.given() && stage.train.unfreeze != "none") {
    throw ConfigError(stage.place + " train.unfreeze",
                      "adapters keep the whole backbone frozen; train.unfreeze does not apply");
  }
  if (stage.init.extends_vocabulary() && !stage.init.has("tokenizer")) {
    throw ConfigError(stage.place,
                      "init.vocabulary: extend grows the source's vocabulary, so init.parts must "
                      "include tokenizer");
  }
}

/// Where `init.vectors` points: an earlier stage of this recipe (by name), else the path as
/// written. Throws ConfigError when neither exists.
std::string init_vectors_path(const RecipeSpec& recipe, std::size_t stage_index) {
  const StageSpec& stage = recipe.stages[stage_index];
  const int source = find_stage(recipe, stage.init.vectors);
  if (source >= 0 && static_cast<std::size_t>(source) < stage_index) {
    return (fs::path(recipe.run_dir) / stage.init.vectors).string();
  }
  std::error_code ec;
  if (!fs::exists(stage.init.vectors, ec)) {
    throw ConfigError(stage.place + " init.vectors",
                      "'" + stage.init.vectors +
                          "' is neither an earlier stage nor an existing file or run directory "
                          "(relative paths start at the working directory)");
  }
  return stage.init.vectors;
}

/// ULMFiT's vocabulary transfer: the source's vocabulary plus this stage's words that occur at
/// least `init.min_count` times, appended so every source id keeps its meaning (and its rows).
/// The words are counted by a tokenizer like the source's over the stage's own task data. Only a
/// task knows how to read its data's format, so the count is a throwaway task's `prepare`: the
/// stage's data is read one extra time, once per stage, before training.
void extend_vocabulary(const StageSpec& stage, const ComponentSpec& tokenizer_spec,
                       const ComponentSpec& task_spec, const TaskContext& task_context,
                       Tokenizer& tokenizer) {
  auto counter = build_tokenizer(tokenizer_spec, "");
  auto reader = component_reader(task_spec, "task '" + task_spec.type + "'");
  Registry::instance()
      .make_task(task_spec.type, reader, task_context, task_context.place)
      ->prepare(*counter, /*fit_vocabulary=*/true);
  Vocabulary merged = tokenizer.vocabulary();
  const Vocabulary& seen = counter->vocabulary();
  const std::int64_t before = merged.size();
  for (std::int64_t id = Vocabulary::kEos + 1; id < seen.size(); ++id) {
    const std::int64_t count = seen.counts()[static_cast<std::size_t>(id)];
    if (count < stage.init.min_count || merged.contains(seen.token(id))) continue;
    merged.set_count(merged.add(seen.token(id)), count);
  }
  std::cout << stage.name << ": vocabulary extended from " << before << " to " << merged.size()
            << " tokens with this stage's words seen at least " << stage.init.min_count
            << " times\n";
  tokenizer.set_vocabulary(std::move(merged));
}

/// The stage's components, with those it omits taken from its init source.
StageComponents effective_components(const RecipeSpec& recipe, std::size_t index) {
  const StageSpec& stage = recipe.stages[index];
  StageComponents c{stage.task, stage.tokenizer, stage.backbone, stage.head};
  if (stage.init.given()) {
    int source = find_stage(recipe, stage.init.from);
    StageComponents from;
    if (source >= 0 && static_cast<std::size_t>(source) < index) {
      from = effective_components(recipe, static_cast<std::size_t>(source));
    } else {
      from = read_stage_components(init_source_dir(recipe, index));
    }
    if (stage.init.has("tokenizer")) c.tokenizer = from.tokenizer;
    if (!c.backbone.given() && stage.init.has("backbone")) c.backbone = from.backbone;
    if (!c.head.given() && stage.init.has("head")) c.head = from.head;
  }
  if (!c.tokenizer.given()) c.tokenizer.type = "word";
  if (!c.backbone.given())
    throw ConfigError(stage.place,
                      "stage '" + stage.name +
                          "' needs a backbone: give `backbone:` or init it from an earlier stage");
  if (!c.head.given()) throw ConfigError(stage.place, "stage '" + stage.name + "' needs a head");
  return c;
}

/// Why a part taken by `init` does not fit this stage's model, and what to change: load_part's
/// report (the part, every key that differs and both shapes, the file) and the likely fix.
std::string init_refusal(const StageSpec& stage, const std::string& part,
                         const std::string& source_dir, std::int64_t vocab_size,
                         const Error& error) {
  std::ostringstream s;
  s << "init from '" << stage.init.from << "': " << error.message() << " [" << error.place() << "]";
  // A body trained on another vocabulary is the usual cause, and only the source's own
  // vocabulary fits it.
  fs::path source_vocab = fs::path(source_dir) / "vocab.txt";
  std::error_code ec;
  if (!stage.init.has("tokenizer") && fs::exists(source_vocab, ec)) {
    std::int64_t source_size = Vocabulary::load(source_vocab.string()).size();
    if (source_size != vocab_size) {
      s << "; the source was trained on a vocabulary of " << source_size
        << " tokens, this stage built its own of " << vocab_size
        << ": add tokenizer to init.parts to use the source's";
      return s.str();
    }
  }
  s << "; build this stage's " << part << " as the source's"
    << (part == "head" ? " (same options and outputs)" : " (same options)") << ", see "
    << (fs::path(source_dir) / "stage.yaml").string();
  return s.str();
}

// Prints the stage's samples and keeps them in samples.tsv (prompt TAB continuation) for
// `lmforge report`.
void print_samples(const StageSpec& stage, const fs::path& stage_dir, Model& model,
                   const Tokenizer& tokenizer, torch::Device device) {
  if (!stage.has_generate || stage.generate.prompts.empty()) return;
  SamplingOptions sampling;
  sampling.max_tokens = stage.generate.max_tokens;
  sampling.temperature = stage.generate.temperature;
  sampling.top_k = stage.generate.top_k;
  sampling.top_p = stage.generate.top_p;
  sampling.seed = static_cast<std::uint64_t>(stage.generate.seed);
  std::string kept;
  for (const auto& prompt : stage.generate.prompts) {
    std::string continuation = generate_text(model, tokenizer, prompt, sampling, device);
    std::cout << stage.name << " sample: " << prompt << " → " << continuation << "\n";
    auto one_line = [](std::string text) {
      std::replace_if(
          text.begin(), text.end(), [](char c) { return c == '\t' || c == '\n'; }, ' ');
      return text;
    };
    kept += one_line(prompt) + "\t" + one_line(continuation) + "\n";
  }
  io::write_text_atomically((stage_dir / "samples.tsv").string(), kept);
}

/// "classify: LoRA rank 8 on 16 matrices: trainable 74,886 of 3,612,486 parameters (2.07%)".
void report_trainable_share(const std::string& stage, Model& model, const LoraAdapters& adapters) {
  std::int64_t total = 0, head = 0;
  for (const auto& p : model.backbone().parameters()) total += p.numel();
  for (const auto& p : model.head().parameters()) head += p.numel();
  const std::int64_t trainable = adapters.adapter_parameter_count() + head;
  total += head + adapters.adapter_parameter_count();
  std::cout << stage << ": LoRA rank " << adapters.targets().front().a.size(0) << " on "
            << adapters.targets().size() << " weight matrices; trainable parameters " << trainable
            << " (adapters " << adapters.adapter_parameter_count() << ", head " << head << ") of "
            << total << " (" << std::fixed << std::setprecision(2)
            << 100.0 * static_cast<double>(trainable) / static_cast<double>(total) << "%)\n"
            << std::defaultfloat;
}

/// The adapter checkpoint's size beside the backbone it spares.
void report_adapter_checkpoint(const std::string& stage, const std::string& stage_dir,
                               const std::string& base) {
  auto latest = CheckpointStore(stage_dir).latest();
  if (!latest) return;
  std::cout << stage << ": adapter checkpoint " << (fs::path(*latest) / "adapter.pt").string()
            << " " << format_bytes(file_bytes((fs::path(*latest) / "adapter.pt").string()))
            << " + head " << format_bytes(file_bytes((fs::path(*latest) / "head.pt").string()))
            << ", on top of the base backbone "
            << format_bytes(file_bytes((fs::path(base) / "backbone.pt").string())) << " in " << base
            << " (lmforge merge " << stage_dir << " folds them in)\n";
}

bool selected(const RunOptions& options, const std::string& stage) {
  const auto& only = options.only_stages;
  return only.empty() || std::find(only.begin(), only.end(), stage) != only.end();
}

void check_selected_stages(const RecipeSpec& recipe, const RunOptions& options) {
  std::vector<std::string> names;
  for (const auto& stage : recipe.stages) names.push_back(stage.name);
  for (const auto& name : options.only_stages) {
    if (find_stage(recipe, name) < 0) {
      throw ConfigError("--stages", "no stage '" + name + "' in " + recipe.file +
                                        did_you_mean(name, names) +
                                        "; stages: " + join_names(names));
    }
  }
}

}  // namespace

namespace {

// A component's own constructor checks (a plugin's cross-field rules) surface at validation, with
// the component's recipe place, by building it once with placeholder sizes: `validate` then
// catches what `run` would, without reading data or training.
constexpr std::int64_t kPlaceholderVocabulary = 64;

void build_components(const StageComponents& c, const StageSpec& stage, std::uint64_t seed,
                      ErrorCollector& errors) {
  const TrainSpec& train = stage.train;
  Registry& registry = Registry::instance();
  auto located = [&](const ComponentSpec& spec, const std::function<void()>& build) {
    const std::string place = component_place(spec);
    errors.attempt([&] {
      try {
        build();
      } catch (const ConfigError& e) {
        if (!e.place().empty()) throw;
        throw ConfigError(place, e.message());
      } catch (const c10::Error& e) {
        std::string message = e.what_without_backtrace();
        throw ConfigError(place, spec.type + ": " + message.substr(0, message.find('\n')));
      }
    });
  };
  located(c.task, [&] {
    auto reader = component_reader(c.task, "task '" + c.task.type + "'");
    TaskContext context;
    context.place = component_place(c.task);
    context.batch_size = train.batch_size;
    context.seed = seed;
    auto task = registry.make_task(c.task.type, reader, context, context.place);
    // Listed metrics score a confusion matrix: only a labelled task has one to give them.
    if (!train.metrics.empty() && dynamic_cast<LabelledTask*>(task.get()) == nullptr) {
      throw ConfigError(context.place,
                        "train.metrics apply to labelled tasks (built on "
                        "LabelledTask, e.g. classification or tagging); task '" +
                            c.task.type + "' is not one");
    }
  });
  std::shared_ptr<Backbone> backbone;
  located(c.backbone, [&] {
    auto reader = component_reader(c.backbone, "backbone '" + c.backbone.type + "'");
    backbone = registry.make_backbone(c.backbone.type, reader,
                                      BackboneContext{kPlaceholderVocabulary, Vocabulary::kPad},
                                      component_place(c.backbone));
  });
  if (!backbone) return;
  // Target patterns and rank are checked against the backbone's real parameter names and shapes
  // (only an embedding's row count is the placeholder's).
  if (stage.adapters.given()) {
    errors.attempt([&] { LoraAdapters(*backbone, stage.adapters, stage.place); });
  }
  located(c.head, [&] {
    auto reader = component_reader(c.head, "head '" + c.head.type + "'");
    registry.make_head(c.head.type, reader,
                       HeadContext{backbone->output_size(), kPlaceholderVocabulary, backbone.get()},
                       component_place(c.head));
  });
}

}  // namespace

namespace {

// The stage's `train.metrics`, built from the registry.
std::vector<NamedMetric> recipe_metrics(const StageSpec& stage) {
  std::vector<NamedMetric> metrics;
  for (const auto& name : stage.train.metrics) {
    auto reader = component_reader(ComponentSpec{name, nullptr}, "metric '" + name + "'");
    metrics.push_back({name, Registry::instance().make<Metric>(name, reader, NoContext{},
                                                               stage.place + " train.metrics")});
  }
  return metrics;
}

}  // namespace

void validate_recipe(const RecipeSpec& recipe) {
  Registry& registry = Registry::instance();
  // Every mistake is reported at once, each at its place (config/error_list.h).
  ErrorCollector errors;
  for (std::size_t i = 0; i < recipe.stages.size(); ++i) {
    const StageSpec& stage = recipe.stages[i];
    errors.attempt([&] { check_init_parts(stage); });
    if (stage.init.has_vectors()) errors.attempt([&] { init_vectors_path(recipe, i); });
    if (stage.init.given()) errors.attempt([&] { init_source_dir(recipe, i); });
    StageComponents c;
    if (!errors.attempt([&] { c = effective_components(recipe, i); })) continue;
    // Parse every component's options against its declaration (names, types, ranges).
    bool parsed = true;
    auto check = [&](const ComponentSpec& spec, const char* kind) {
      parsed &= errors.attempt([&] {
        const ComponentInfo& info = registry.find(kind, spec.type, component_place(spec));
        auto reader = component_reader(spec, std::string(kind) + " '" + spec.type + "'");
        reader.read(info.describe);
      });
    };
    check(c.task, "task");
    check(c.tokenizer, "tokenizer");
    check(c.backbone, "backbone");
    check(c.head, "head");
    check(stage.train.optimizer, "optimizer");
    check(stage.train.schedule, "schedule");
    for (const auto& metric : stage.train.metrics) {
      errors.attempt([&] { registry.find("metric", metric, stage.place + " train.metrics"); });
    }
    if (parsed) {
      build_components(c, stage, static_cast<std::uint64_t>(recipe.seed) + i, errors);
    }
    // Data files named by the task must exist, unless the recipe generates them.
    if (c.task.node && c.task.node->yaml().IsMap()) {
      for (const char* key : {"train", "valid", "test", "reference"}) {
        YAML::Node value = c.task.node->yaml()[key];
        if (!value || !value.IsScalar()) continue;
        std::string path = value.Scalar();
        bool generated = !recipe.generate_data.type.empty() && path.rfind(recipe.run_dir, 0) == 0;
        std::error_code ec;
        errors.attempt([&] {
          if (!generated && is_file_pattern(path)) {
            expand_file_pattern(path, std::string("task.") + key, c.task.node->place_of(value));
          } else if (!generated && !fs::exists(path, ec)) {
            throw DataError(c.task.node->place_of(value),
                            std::string("task.") + key + ": file '" + path +
                                "' does not exist (is --data-dir right?)");
          }
        });
      }
    }
  }
  errors.throw_if_any();
}

void run_recipe(const RecipeSpec& recipe, const RunOptions& options) {
  PluginLoader::instance().load_paths(recipe.plugins, recipe.file + " plugins");
  validate_recipe(recipe);
  check_selected_stages(recipe, options);
  // Ranks on one machine share its cores: each gets cores / local processes unless the recipe
  // says how many threads.
  Communicator* world = current_communicator();
  configure_runtime(recipe.threads > 0 || !world
                        ? recipe.threads
                        : std::max<std::int64_t>(1, std::thread::hardware_concurrency() /
                                                        world->world().local_world_size));
  torch::Device device = torch::kCPU;
  if (recipe.device == "cuda") {
    if (!torch::cuda::is_available()) {
      throw ConfigError(recipe.file, "device: cuda, but no CUDA device is available");
    }
    device = torch::kCUDA;
  }
  fs::create_directories(recipe.run_dir);
  {
    YAML::Emitter out;
    out << recipe.resolved;
    io::write_text_atomically((fs::path(recipe.run_dir) / "recipe.yaml").string(),
                              std::string(out.c_str()) + "\n");
  }
  if (!recipe.generate_data.type.empty()) {
    fs::path data_dir = fs::path(recipe.run_dir) / "data";
    if (!fs::exists(data_dir / "reference.json")) {
      auto report = write_toy_grammar(data_dir.string(), recipe.generate_data.sentences,
                                      static_cast<std::uint64_t>(recipe.generate_data.seed),
                                      recipe.generate_data.labelled_fraction);
      std::cout << "generated toy grammar data in " << data_dir.string() << ": "
                << report.train_tokens << " training tokens, true entropy " << std::fixed
                << std::setprecision(3) << report.test_nats_per_token << " nats/token\n";
    }
  }

  Registry& registry = Registry::instance();
  // Once a stage starts afresh, later stages may be built on what it will produce (init.from):
  // they start afresh too rather than keep results made from the old one.
  bool restarted_earlier = false;
  for (std::size_t index = 0; index < recipe.stages.size(); ++index) {
    const StageSpec& stage = recipe.stages[index];
    fs::path stage_dir = fs::path(recipe.run_dir) / stage.name;
    if (!selected(options, stage.name)) continue;
    const YAML::Node settings = stage_settings(recipe, index);
    bool resume = options.resume && !restarted_earlier;
    if (resume) {
      // The model, its data and its seed must be the ones the checkpoints were made with. How
      // it trains (train:, generate:) may change for an unfinished stage, e.g. freezing a group
      // from here on; a finished stage's results would not reflect such a change, so it counts.
      const bool finished = fs::exists(stage_dir / "done");
      std::string list, training;
      for (const auto& line : changed_settings(stage_dir.string(), settings)) {
        bool how_it_trains = line.rfind("stage.train.", 0) == 0 ||
                             line.rfind("stage.generate.", 0) == 0 ||
                             line.rfind("stage.generate:", 0) == 0;
        std::string& into = how_it_trains && !finished ? training : list;
        into += (into.empty() ? "" : "; ") + line;
      }
      if (!list.empty()) {
        if (!options.restart_changed) {
          throw ConfigError(stage.place,
                            "--resume: " + std::string(finished ? "finished " : "") + "stage '" +
                                stage.name + "' was run with other settings than this recipe's (" +
                                list +
                                "); resume with the recipe as it was, or add --restart-changed "
                                "to train this stage and the ones after it afresh");
        }
        std::cout << stage.name << ": settings changed (" << list << "), starting afresh\n";
        resume = false;
      } else if (!training.empty()) {
        std::cerr << "lmforge: warning: " << stage.name
                  << ": resuming with changed training settings (" << training << ")\n";
      }
    }
    if (resume && fs::exists(stage_dir / "done")) {
      std::cout << stage.name << ": already finished, skipping\n";
      continue;
    }
    restarted_earlier = restarted_earlier || (options.resume && !resume);
    fs::create_directories(stage_dir);
    fs::remove(stage_dir / "done");
    save_stage_settings(stage_dir.string(), settings);
    torch::manual_seed(static_cast<std::uint64_t>(recipe.seed) + index);
    StageComponents c = effective_components(recipe, index);
    std::string source_dir = stage.init.given() ? init_source_dir(recipe, index) : "";
    std::cout << "== stage " << stage.name << " (task " << c.task.type << ", backbone "
              << c.backbone.type << ", head " << c.head.type << ")\n";

    // Tokenizer: from the init source (its vocabulary is kept as is) or fitted on this task.
    bool vocabulary_given = stage.init.has("tokenizer");
    auto tokenizer = build_tokenizer(
        c.tokenizer, vocabulary_given ? (fs::path(source_dir) / "vocab.txt").string() : "");
    auto task_reader = component_reader(c.task, "task '" + c.task.type + "'");
    TaskContext task_context{component_place(c.task), stage_dir.string(), stage.train.batch_size,
                             device, static_cast<std::uint64_t>(recipe.seed)};
    task_context.metrics = recipe_metrics(stage);
    if (world) {
      task_context.rank = world->rank();
      task_context.world_size = world->world_size();
      task_context.sum_over_ranks = [world](torch::Tensor& values) {
        world->all_reduce_sum({values});
      };
      if (stage.train.batch_size % world->world_size() != 0) {
        throw ConfigError(stage.place + " train.batch_size",
                          "batch_size " + std::to_string(stage.train.batch_size) +
                              " (the global batch) does not divide between " +
                              std::to_string(world->world_size()) +
                              " processes; choose a multiple of " +
                              std::to_string(world->world_size()));
      }
    }
    auto task = registry.make_task(c.task.type, task_reader, task_context, task_context.place);
    const std::int64_t source_vocabulary_size = tokenizer->vocabulary().size();
    if (stage.init.extends_vocabulary()) {
      extend_vocabulary(stage, c.tokenizer, c.task, task_context, *tokenizer);
    }
    task->prepare(*tokenizer, !vocabulary_given);
    tokenizer->vocabulary().save((stage_dir / "vocab.txt").string());
    task->save_artifacts(stage_dir.string());

    auto assembled = assemble_model(c, tokenizer->vocabulary().size(), task->num_outputs());
    Model& model = *assembled;
    std::string base_checkpoint;
    if (stage.init.given()) {
      auto source_checkpoint = CheckpointStore(source_dir).latest();
      if (!source_checkpoint) {
        throw ConfigError(stage.place, "init.from '" + stage.init.from + "' has no checkpoint");
      }
      base_checkpoint = fs::absolute(*source_checkpoint).lexically_normal().string();
      for (const char* part : {"backbone", "head"}) {
        if (!stage.init.has(part)) continue;
        torch::nn::Module& module = std::string(part) == "backbone"
                                        ? static_cast<torch::nn::Module&>(model.backbone())
                                        : static_cast<torch::nn::Module&>(model.head());
        const CheckpointMeta source_meta = CheckpointStore::read_meta(*source_checkpoint);
        if (std::string(part) == "backbone" && source_meta.adapter_only) {
          // The source trained LoRA adapters: its backbone is its base's plus the adapters.
          if (stage.adapters.given() || stage.init.extends_vocabulary()) {
            throw ConfigError(stage.place, "init.from '" + stage.init.from +
                                               "' holds LoRA adapters, not a whole backbone; to "
                                               "adapt it further or extend its vocabulary, fold "
                                               "them in first: lmforge merge " +
                                               source_dir);
          }
          const std::string file = (fs::path(source_dir) / "stage.yaml").string();
          load_adapted_backbone(model, read_adapter_spec(YAML::LoadFile(file)["adapters"], file),
                                *source_checkpoint, source_meta.base);
          std::cout << stage.name << ": backbone initialised from " << *source_checkpoint
                    << " (its base with its adapters folded in)\n";
          continue;
        }
        try {
          VocabularyGrowth growth;
          if (stage.init.extends_vocabulary()) {
            growth = {source_vocabulary_size, tokenizer->vocabulary().size()};
          }
          load_part(module, *source_checkpoint, part, /*allow_partial=*/false, growth);
        } catch (const ConfigError& e) {
          throw ConfigError(stage.place, init_refusal(stage, part, source_dir,
                                                      tokenizer->vocabulary().size(), e));
        }
        std::cout << stage.name << ": " << part << " initialised from " << *source_checkpoint
                  << "\n";
      }
    }
    if (stage.init.has_vectors()) {
      InitSpec vectors_from = stage.init;
      vectors_from.vectors = init_vectors_path(recipe, index);
      WordVectors vectors = read_init_vectors(vectors_from, stage.place);
      VectorCoverage coverage =
          fill_input_embedding(model.backbone(), tokenizer->vocabulary(), vectors, stage.place);
      std::cout << stage.name << ": input embedding from " << stage.init.vectors << ": "
                << describe(coverage) << (stage.init.freeze ? "; frozen" : "; trained further")
                << "\n";
    }
    model.to(device);
    std::shared_ptr<LoraAdapters> adapters;
    if (stage.adapters.given()) {
      adapters = std::make_shared<LoraAdapters>(model.backbone(), stage.adapters, stage.place);
      model.register_module("adapters", adapters);
      report_trainable_share(stage.name, model, *adapters);
    }
    save_stage_description(stage_dir.string(), c, tokenizer->vocabulary().size(),
                           task->num_outputs(), recipe.resolved["stages"][index]["adapters"]);

    TrainerSetup setup{stage.name,      stage_dir.string(), stage.place, &stage.train,
                       c.backbone.type, c.head.type,        device,      resume};
    setup.adapters = adapters.get();
    if (stage.init.freeze) setup.frozen.push_back(model.backbone().input_embedding());
    setup.adapter_base = base_checkpoint;
    Metrics final_metrics = Trainer(setup, model, *task).fit();
    if (adapters) report_adapter_checkpoint(stage.name, stage_dir.string(), base_checkpoint);
    for (const auto& line : task->summary(final_metrics)) {
      std::cout << stage.name << ": " << line << "\n";
    }
    print_samples(stage, stage_dir, model, *tokenizer, device);
    io::write_text_atomically((stage_dir / "done").string(), "finished\n");
  }
}

}  // namespace lmforge
