#include "recipe/stage_runner.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "adapters/adapter_checkpoint.h"
#include "adapters/lora.h"
#include "config/yaml_options.h"
#include "distributed/communicator.h"
#include "generate/sampler.h"
#include "init/vector_init.h"
#include "interop/model_import.h"
#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "lmforge/vocabulary.h"
#include "recipe/stage_sources.h"
#include "recipe/stage_training.h"
#include "train/checkpoint.h"
#include "train/runtime.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

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

}  // namespace

StageRunner::StageRunner(const RecipeSpec& recipe, std::size_t index, torch::Device device,
                         bool resume, Communicator* world)
    : recipe_(recipe),
      index_(index),
      stage_(recipe.stages[index]),
      stage_dir_(fs::path(recipe.run_dir) / recipe.stages[index].name),
      device_(device),
      resume_(resume),
      world_(world) {}

StageRunner::~StageRunner() = default;

TaskContext StageRunner::task_context() const {
  TaskContext context{component_place(components_.task), stage_dir_.string(),
                      stage_.train.batch_size, device_, static_cast<std::uint64_t>(recipe_.seed)};
  context.metrics = recipe_metrics(stage_);
  if (world_) {
    context.rank = world_->rank();
    context.world_size = world_->world_size();
    Communicator* world = world_;
    context.sum_over_ranks = [world](torch::Tensor& values) { world->all_reduce_sum({values}); };
    if (stage_.train.batch_size % world_->world_size() != 0) {
      throw ConfigError(stage_.place + " train.batch_size",
                        "batch_size " + std::to_string(stage_.train.batch_size) +
                            " (the global batch) does not divide between " +
                            std::to_string(world_->world_size()) +
                            " processes; choose a multiple of " +
                            std::to_string(world_->world_size()));
    }
  }
  return context;
}

void StageRunner::prepare() {
  torch::manual_seed(static_cast<std::uint64_t>(recipe_.seed) + index_);
  if (stage_.init.imports()) import_init_source();
  components_ = effective_components(recipe_, index_);
  source_dir_ = stage_.init.given() ? init_source_dir(recipe_, index_) : "";
  const StageComponents& c = components_;
  std::cout << "== stage " << stage_.name << " (task " << c.task.type << ", backbone "
            << c.backbone.type << ", head " << c.head.type << ")\n";

  // Tokenizer: from the init source (its vocabulary is kept as is) or fitted on this task.
  const bool vocabulary_given = stage_.init.has("tokenizer");
  tokenizer_ = build_tokenizer(
      c.tokenizer, vocabulary_given ? (fs::path(source_dir_) / "vocab.txt").string() : "");
  const TaskContext context = task_context();
  auto task_reader = component_reader(c.task, "task '" + c.task.type + "'");
  task_ = Registry::instance().make_task(c.task.type, task_reader, context, context.place);
  source_vocabulary_size_ = tokenizer_->vocabulary().size();
  if (stage_.init.extends_vocabulary()) {
    lmforge::extend_vocabulary(stage_, c.tokenizer, c.task, context, *tokenizer_);
  }
  task_->prepare(*tokenizer_, !vocabulary_given);
  tokenizer_->vocabulary().save((stage_dir_ / "vocab.txt").string());
  task_->save_artifacts(stage_dir_.string());
  model_ = assemble_model(c, tokenizer_->vocabulary().size(), task_->num_outputs());
}

void StageRunner::initialise() {
  if (stage_.init.given()) init_from_source();
  Model& model = *model_;
  if (stage_.init.has_vectors()) {
    InitSpec vectors_from = stage_.init;
    vectors_from.vectors = init_vectors_path(recipe_, index_);
    WordVectors vectors = read_init_vectors(vectors_from, stage_.place);
    VectorCoverage coverage =
        fill_input_embedding(model.backbone(), tokenizer_->vocabulary(), vectors, stage_.place);
    std::cout << stage_.name << ": input embedding from " << stage_.init.vectors << ": "
              << describe(coverage) << (stage_.init.freeze ? "; frozen" : "; trained further")
              << "\n";
  }
  model.to(device_);
  if (stage_.adapters.given()) {
    adapters_ = std::make_shared<LoraAdapters>(model.backbone(), stage_.adapters, stage_.place);
    model.register_module("adapters", adapters_);
    report_trainable_share(stage_.name, model, *adapters_);
  }
  save_stage_description(stage_dir_.string(), components_, tokenizer_->vocabulary().size(),
                         task_->num_outputs(), recipe_.resolved["stages"][index_]["adapters"]);
}

// `init: {from: MODEL, format: IMPORTER}`: the model is imported afresh (the file may have
// changed since the last run) as a finished stage beside this one, which then takes its parts
// like any earlier stage's. Rank 0 writes it; the others wait for it.
void StageRunner::import_init_source() {
  const std::string run = imported_source_run(recipe_, index_);
  if (!world_ || world_->rank() == 0) {
    fs::remove_all(run);
    const auto summary =
        interop::import_model(stage_.init.format, stage_.init.from, run, kImportedStage);
    std::cout << stage_.name << ": imported " << stage_.init.from << " (" << stage_.init.format
              << ") into " << summary.stage_dir << ": " << summary.tensors << " tensors, "
              << summary.parameters << " parameters, vocabulary " << summary.vocab_size << "\n";
    for (const auto& note : summary.notes) std::cout << stage_.name << ": " << note << "\n";
  }
  if (world_) world_->barrier();
}

// The parts init.parts names, from init.from's latest checkpoint.
void StageRunner::init_from_source() {
  Model& model = *model_;
  auto source_checkpoint = CheckpointStore(source_dir_).latest();
  if (!source_checkpoint) {
    throw ConfigError(stage_.place, "init.from '" + stage_.init.from + "' has no checkpoint");
  }
  base_checkpoint_ = fs::absolute(*source_checkpoint).lexically_normal().string();
  const CheckpointMeta source_meta = CheckpointStore::read_meta(*source_checkpoint);
  for (const std::string part : {"backbone", "head"}) {
    if (!stage_.init.has(part)) continue;
    if (part == "backbone" && source_meta.adapter_only) {
      // The source trained LoRA adapters: its backbone is its base's plus the adapters.
      if (stage_.adapters.given() || stage_.init.extends_vocabulary()) {
        throw ConfigError(stage_.place, "init.from '" + stage_.init.from +
                                            "' holds LoRA adapters, not a whole backbone; to "
                                            "adapt it further or extend its vocabulary, fold "
                                            "them in first: lmforge merge " +
                                            source_dir_);
      }
      const std::string file = (fs::path(source_dir_) / "stage.yaml").string();
      load_adapted_backbone(model, read_adapter_spec(YAML::LoadFile(file)["adapters"], file),
                            *source_checkpoint, source_meta.base);
      std::cout << stage_.name << ": backbone initialised from " << *source_checkpoint
                << " (its base with its adapters folded in)\n";
      continue;
    }
    torch::nn::Module& module = part == "backbone"
                                    ? static_cast<torch::nn::Module&>(model.backbone())
                                    : static_cast<torch::nn::Module&>(model.head());
    try {
      VocabularyGrowth growth;
      if (stage_.init.extends_vocabulary()) {
        growth = {source_vocabulary_size_, tokenizer_->vocabulary().size()};
      }
      load_part(module, *source_checkpoint, part, /*allow_partial=*/false, growth);
    } catch (const ConfigError& e) {
      throw ConfigError(stage_.place, init_refusal(stage_, part, source_dir_,
                                                   tokenizer_->vocabulary().size(), e));
    }
    std::cout << stage_.name << ": " << part << " initialised from " << *source_checkpoint << "\n";
  }
}

void StageRunner::train() {
  TrainerSetup setup;
  setup.stage_name = stage_.name;
  setup.stage_dir = stage_dir_.string();
  setup.place = stage_.place;
  setup.backbone_type = components_.backbone.type;
  setup.head_type = components_.head.type;
  setup.device = device_;
  setup.resume = resume_;
  setup.adapters = adapters_.get();
  setup.adapter_base = base_checkpoint_;
  if (stage_.init.freeze) setup.frozen.push_back(model_->backbone().input_embedding());
  final_metrics_ = train_stage(std::move(setup), stage_.train, *model_, *task_);
}

void StageRunner::report() {
  if (adapters_) report_adapter_checkpoint(stage_.name, stage_dir_.string(), base_checkpoint_);
  for (const auto& line : task_->summary(final_metrics_)) {
    std::cout << stage_.name << ": " << line << "\n";
  }
  print_samples(stage_, stage_dir_, *model_, *tokenizer_, device_);
  io::write_text_atomically((stage_dir_ / "done").string(), "finished\n");
}

}  // namespace lmforge
