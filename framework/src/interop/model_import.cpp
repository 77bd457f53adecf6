#include "interop/model_import.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <set>

#include "config/yaml_options.h"
#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "lmforge/importer.h"
#include "lmforge/registry.h"
#include "train/checkpoint.h"
#include "train/stage_artifacts.h"

namespace lmforge::interop {
namespace fs = std::filesystem;
namespace {

std::string join_some(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 8) out += ", … (" + std::to_string(names.size()) + " in all)";
  return out;
}

// Copies the imported tensors into the model by name; every parameter and buffer must be given
// with its shape, and nothing may be left over, so a mapping mistake cannot pass silently.
void fill(Model& model, const ImportedModel& imported, const std::string& place) {
  std::map<std::string, torch::Tensor> given(imported.tensors.begin(), imported.tensors.end());
  std::vector<std::string> missing, wrong;
  torch::NoGradGuard no_grad;
  auto take = [&](const std::string& name, torch::Tensor target) {
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
      return;
    }
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream s;
      s << name << " " << it->second.sizes() << " for " << target.sizes();
      wrong.push_back(s.str());
    } else {
      target.copy_(it->second);
    }
    given.erase(it);
  };
  for (const auto& p : model.named_parameters(true)) take(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) take(b.key(), b.value());
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : given) unexpected.push_back(name);
  if (!missing.empty() || !wrong.empty() || !unexpected.empty()) {
    std::string message = "the imported tensors do not fit the model:";
    if (!missing.empty()) message += " missing " + join_some(missing) + ";";
    if (!wrong.empty()) message += " wrong shape " + join_some(wrong) + ";";
    if (!unexpected.empty()) message += " unexpected " + join_some(unexpected) + ";";
    throw DataError(place, message);
  }
}

ImportedModel read_with(const std::string& format, const std::string& source) {
  ComponentSpec spec{format, nullptr};
  auto reader = component_reader(spec, "importer");
  return Registry::instance().make<Importer>(format, reader, NoContext{}, "FORMAT")->read(source);
}

}  // namespace

StageComponents imported_components(const std::string& format, const std::string& source) {
  const ImportedModel imported = read_with(format, source);
  try {
    return stage_components_of(YAML::Load(imported.components_yaml), source);
  } catch (const YAML::Exception& e) {
    throw Error(source,
                "importer " + format + ": its components are not YAML: " + std::string(e.what()));
  }
}

ImportSummary import_model(const std::string& format, const std::string& source,
                           const std::string& run_dir, const std::string& stage_name) {
  const std::string place = "lmforge import " + format;
  ImportedModel imported = read_with(format, source);

  const fs::path stage_dir = fs::path(run_dir) / stage_name;
  if (fs::exists(stage_dir / "stage.yaml")) {
    throw ConfigError("--output", (stage_dir).string() +
                                      " already holds a stage; choose another --output or --name");
  }
  fs::create_directories(stage_dir);

  // The importer's components are checked as YAML, then written and read back as any stage's
  // are (stage.yaml); the sizes join them once the tokenizer has built its vocabulary.
  try {
    YAML::Load(imported.components_yaml);
  } catch (const YAML::Exception& e) {
    throw Error(place, "the importer's components are not YAML: " + std::string(e.what()));
  }
  const std::string description = "format: 1\n" + imported.components_yaml + "\n";
  io::write_text_atomically((stage_dir / "stage.yaml").string(), description);
  const StageComponents parsed = read_stage_components(stage_dir.string());
  auto tokenizer = build_tokenizer(parsed.tokenizer, "");
  tokenizer->build_vocabulary();
  const std::int64_t vocab = tokenizer->vocabulary().size();
  tokenizer->vocabulary().save((stage_dir / "vocab.txt").string());
  io::write_text_atomically((stage_dir / "stage.yaml").string(),
                            description + "vocab_size: " + std::to_string(vocab) +
                                "\nnum_outputs: " + std::to_string(vocab) + "\n");
  auto model = assemble_model(parsed, vocab, vocab);
  fill(*model, imported, place);

  CheckpointStore store(stage_dir.string(), 1);
  CheckpointMeta meta;
  meta.finished = true;
  meta.backbone_type = parsed.backbone.type;
  meta.head_type = parsed.head.type;
  store.save(*model, meta, [](torch::serialize::OutputArchive&) {});
  io::write_text_atomically(
      (fs::path(run_dir) / "recipe.yaml").string(),
      "name: " + fs::absolute(run_dir).lexically_normal().filename().string() +
          "\n# imported with: lmforge import " + format + " " + source +
          "\nstages:\n  - name: " + stage_name + "\n");
  io::write_text_atomically((stage_dir / "done").string(), "imported\n");

  ImportSummary summary;
  summary.stage_dir = stage_dir.string();
  summary.vocab_size = vocab;
  summary.tensors = static_cast<std::int64_t>(imported.tensors.size());
  for (const auto& p : model->parameters()) summary.parameters += p.numel();
  summary.notes = imported.notes;
  return summary;
}

}  // namespace lmforge::interop
