#include "train/stage_artifacts.h"

#include <filesystem>
#include <fstream>

#include "adapters/adapter_checkpoint.h"
#include "config/yaml_options.h"
#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "lmforge/seq2seq.h"
#include "train/checkpoint.h"

namespace lmforge {
namespace fs = std::filesystem;

namespace {

YAML::Node spec_node(const ComponentSpec& spec) {
  if (spec.node) {
    YAML::Node copy = YAML::Clone(spec.node->yaml());
    if (copy.IsScalar()) {
      YAML::Node map(YAML::NodeType::Map);
      map["type"] = spec.type;
      return map;
    }
    return copy;
  }
  YAML::Node map(YAML::NodeType::Map);
  if (!spec.type.empty()) map["type"] = spec.type;
  return map;
}

ComponentSpec spec_from(const YAML::Node& root, const std::string& key, const std::string& file) {
  ComponentSpec spec;
  YAML::Node node = root[key];
  if (!node.IsDefined() || node.IsNull()) return spec;
  if (!node["type"]) throw DataError(file, "component '" + key + "' has no type");
  spec.type = node["type"].as<std::string>();
  spec.node = std::make_shared<const ConfigNode>(node, file, key);
  return spec;
}

}  // namespace

void save_stage_description(const std::string& stage_dir, const StageComponents& c,
                            std::int64_t vocab_size, std::int64_t num_outputs,
                            const YAML::Node& adapters) {
  YAML::Node root(YAML::NodeType::Map);
  root["format"] = 1;
  root["task"] = spec_node(c.task);
  root["tokenizer"] = spec_node(c.tokenizer);
  root["backbone"] = spec_node(c.backbone);
  root["head"] = spec_node(c.head);
  root["vocab_size"] = vocab_size;
  root["num_outputs"] = num_outputs;
  if (adapters.IsDefined() && !adapters.IsNull()) root["adapters"] = YAML::Clone(adapters);
  YAML::Emitter out;
  out << root;
  io::write_text_atomically((fs::path(stage_dir) / "stage.yaml").string(),
                            std::string(out.c_str()) + "\n");
}

StageComponents read_stage_components(const std::string& stage_dir) {
  std::string file = (fs::path(stage_dir) / "stage.yaml").string();
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    throw DataError(stage_dir,
                    "not a stage directory (no stage.yaml); give a run or stage "
                    "directory made by `lmforge run`");
  }
  try {
    return stage_components_of(YAML::LoadFile(file), file);
  } catch (const YAML::Exception& e) {
    throw DataError(file, std::string("corrupt stage description: ") + e.what());
  }
}

StageComponents stage_components_of(const YAML::Node& root, const std::string& file) {
  return StageComponents{spec_from(root, "task", file), spec_from(root, "tokenizer", file),
                         spec_from(root, "backbone", file), spec_from(root, "head", file)};
}

std::shared_ptr<Tokenizer> build_tokenizer(const ComponentSpec& spec,
                                           const std::string& vocab_path) {
  ComponentSpec effective = spec;
  if (effective.type.empty()) effective.type = "word";
  auto reader = component_reader(effective, "tokenizer");
  auto tokenizer =
      Registry::instance().make_tokenizer(effective.type, reader, component_place(effective));
  if (!vocab_path.empty()) tokenizer->set_vocabulary(Vocabulary::load(vocab_path));
  return tokenizer;
}

std::shared_ptr<Model> assemble_model(const StageComponents& components, std::int64_t vocab_size,
                                      std::int64_t num_outputs) {
  Registry& registry = Registry::instance();
  const ComponentSpec& b = components.backbone;
  const ComponentSpec& h = components.head;
  auto backbone_reader = component_reader(b, "backbone '" + b.type + "'");
  auto backbone = registry.make_backbone(
      b.type, backbone_reader, BackboneContext{vocab_size, Vocabulary::kPad}, component_place(b));
  auto head_reader = component_reader(h, "head '" + h.type + "'");
  auto head = registry.make_head(h.type, head_reader,
                                 HeadContext{backbone->output_size(), num_outputs, backbone.get()},
                                 component_place(h));
  return std::make_shared<Model>(backbone, head);
}

LoadedStage load_stage(const std::string& dir, const std::string& task_type) {
  if (task_type.empty()) return load_stage(dir, StageFilter{}, "");
  return load_stage(
      dir,
      [&](const std::string& stage_dir) {
        return read_stage_components(stage_dir).task.type == task_type;
      },
      "for a " + task_type + " task");
}

namespace {

// The stage's task, constructed from stage.yaml only (no data read), to ask what it can do.
std::shared_ptr<Task> stage_task(const std::string& stage_dir) {
  StageComponents components = read_stage_components(stage_dir);
  auto reader = component_reader(components.task, "task");
  TaskContext context;
  context.stage_dir = stage_dir;
  context.place = component_place(components.task);
  return Registry::instance().make_task(components.task.type, reader, context, context.place);
}

}  // namespace

bool stage_task_can_predict(const std::string& stage_dir) {
  return stage_task(stage_dir)->can_predict();
}

bool stage_task_trains_next_token(const std::string& stage_dir) {
  return stage_task(stage_dir)->trains_next_token();
}

bool stage_task_translates(const std::string& stage_dir) {
  return dynamic_cast<Translator*>(stage_task(stage_dir).get()) != nullptr;
}

LoadedStage load_stage(const std::string& dir, const StageFilter& accept,
                       const std::string& wanted) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw DataError(dir, "run directory not found");
  std::string stage_dir = dir;
  if (!fs::exists(fs::path(dir) / "stage.yaml", ec)) {
    // A run directory: take the last stage (in recipe order) that has a checkpoint.
    std::string recipe = (fs::path(dir) / "recipe.yaml").string();
    if (!fs::exists(recipe, ec)) read_stage_components(dir);  // throws the clear message
    YAML::Node root = YAML::LoadFile(recipe);
    stage_dir.clear();
    for (const auto& stage : root["stages"]) {
      fs::path candidate = fs::path(dir) / stage["name"].as<std::string>();
      if (!fs::exists(candidate / "checkpoints" / "latest", ec)) continue;
      if (!accept || accept(candidate.string())) {
        stage_dir = candidate.string();
      }
    }
    if (stage_dir.empty()) {
      throw DataError(dir, "no stage of this run has a checkpoint" +
                               (wanted.empty() ? std::string() : " " + wanted) + " yet");
    }
  }
  LoadedStage loaded;
  loaded.dir = stage_dir;
  loaded.components = read_stage_components(stage_dir);
  loaded.tokenizer =
      build_tokenizer(loaded.components.tokenizer, (fs::path(stage_dir) / "vocab.txt").string());
  YAML::Node description = YAML::LoadFile((fs::path(stage_dir) / "stage.yaml").string());
  std::int64_t num_outputs = description["num_outputs"].as<std::int64_t>();

  Registry& registry = Registry::instance();
  auto task_reader = component_reader(loaded.components.task, "task");
  TaskContext task_context;
  task_context.stage_dir = stage_dir;
  task_context.place = component_place(loaded.components.task);
  loaded.task = registry.make_task(loaded.components.task.type, task_reader, task_context,
                                   task_context.place);
  loaded.task->load_artifacts(stage_dir);

  loaded.model =
      assemble_model(loaded.components, loaded.tokenizer->vocabulary().size(), num_outputs);
  CheckpointStore store(stage_dir);
  auto latest = store.latest();
  if (!latest) throw DataError(stage_dir, "stage has no checkpoint yet");
  loaded.checkpoint = *latest;
  CheckpointMeta meta = CheckpointStore::read_meta(*latest);
  if (meta.adapter_only) {
    const std::string file = (fs::path(stage_dir) / "stage.yaml").string();
    if (!description["adapters"].IsMap()) {
      throw DataError(file, "the checkpoint holds adapters but the stage has no `adapters:`");
    }
    load_adapted_backbone(*loaded.model, read_adapter_spec(description["adapters"], file), *latest,
                          meta.base);
  } else {
    load_part(loaded.model->backbone(), *latest, "backbone");
  }
  load_part(loaded.model->head(), *latest, "head");
  loaded.model->eval();
  return loaded;
}

}  // namespace lmforge
