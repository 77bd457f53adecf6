#include "interop/model_export.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <sstream>

#include "config/yaml_options.h"
#include "io/atomic_file.h"
#include "io/json_text.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"
#include "lmforge/safetensors.h"
#include "lmforge/torch_version.h"
#include "lmforge/version.h"

namespace lmforge::interop {
namespace fs = std::filesystem;
namespace {

bool is_number(const std::string& text) {
  if (text.empty()) return false;
  std::istringstream in(text);
  double value = 0;
  in >> value;
  return !in.fail() && in.eof();
}

// A recipe value as JSON, typed by the option's declared type.
std::string json_value(const YAML::Node& node, const std::string& type) {
  if (node.IsSequence()) {
    std::string out = "[";
    for (std::size_t i = 0; i < node.size(); ++i) {
      out += (i ? ", " : "") + json_value(node[i], type == "list[int]" ? "int" : "string");
    }
    return out + "]";
  }
  if (!node.IsScalar()) return "null";
  const auto text = node.as<std::string>();
  if ((type == "int" || type == "float") && is_number(text)) return text;
  if (type == "bool" && (text == "true" || text == "false")) return text;
  return io::json_quoted(text);
}

// The component with every option it has: the stage's given values over the declared defaults.
std::string resolved_component(const char* kind, const YAML::Node& given) {
  if (!given || !given["type"]) return "null";
  const auto type = given["type"].as<std::string>();
  std::string out = "{\"type\": " + io::json_quoted(type);
  const auto& info = Registry::instance().find(kind, type, std::string("config.json ") + kind);
  for (const auto& doc : describe_options(info.describe)) {
    if (doc.type == "mapping") continue;  // its fields follow as "group.field"
    // Node::reset rebinds a handle; operator= would overwrite the node it refers to (the stage's
    // own description).
    YAML::Node value;
    value.reset(given);
    std::stringstream path(doc.name);
    for (std::string key; std::getline(path, key, '.');) {
      if (value.IsMap() && value[key]) {
        value.reset(value[key]);
      } else {
        value.reset(YAML::Node());
      }
    }
    if (!value.IsDefined() || value.IsNull()) {
      std::string fallback = doc.default_value == "\"\"" ? "" : doc.default_value;
      try {
        value.reset(YAML::Load(fallback.empty() ? "''" : fallback));
      } catch (const YAML::Exception&) {
        value.reset(YAML::Node(fallback));
      }
    }
    out += ", " + io::json_quoted(doc.name) + ": " + json_value(value, doc.type);
  }
  return out + "}";
}

torch::Tensor check_ids(std::int64_t vocab, std::int64_t length) {
  // Ordinary tokens only (ids 0-3 are <pad>, <unk>, <bos>, <eos>), seeded so a re-export is
  // byte-identical.
  auto generator = at::detail::createCPUGenerator(1234);
  return torch::randint(std::min<std::int64_t>(4, vocab - 1), vocab, {2, length}, generator,
                        torch::kLong);
}

}  // namespace

ExportSummary export_safetensors(LoadedStage& stage, const std::string& weights,
                                 std::int64_t check_tokens) {
  if (!stage.model) throw DataError(stage.dir, "has no checkpoint to export");
  Model& model = *stage.model;
  model.eval();
  const fs::path out_dir = fs::absolute(weights).parent_path();
  fs::create_directories(out_dir);

  ExportSummary summary;
  NamedTensors tensors;
  std::string roles;
  auto add = [&](const std::string& name, const torch::Tensor& tensor, bool buffer) {
    tensors.emplace_back(name, tensor);
    const auto dot = name.find('.'), last = name.rfind('.');
    const std::string part = name.substr(0, dot);
    const std::string module = last > dot ? name.substr(dot + 1, last - dot - 1) : "";
    roles += std::string(roles.empty() ? "" : ",\n    ") + io::json_quoted(name) +
             ": {\"part\": " + io::json_quoted(part) + ", \"module\": " + io::json_quoted(module) +
             ", \"role\": " + io::json_quoted(name.substr(last + 1)) +
             ", \"kind\": " + io::json_quoted(buffer ? "buffer" : "parameter") + ", \"shape\": [";
    for (std::int64_t d = 0; d < tensor.dim(); ++d) {
      roles += (d ? ", " : "") + std::to_string(tensor.size(d));
    }
    roles += "]}";
    summary.parameters += buffer ? 0 : tensor.numel();
    summary.bytes += tensor.numel() * static_cast<std::int64_t>(tensor.element_size());
  };
  for (const auto& p : model.named_parameters(true)) add(p.key(), p.value(), false);
  for (const auto& b : model.named_buffers(true)) add(b.key(), b.value(), true);
  summary.tensors = static_cast<std::int64_t>(tensors.size());
  write_safetensors(weights, tensors,
                    {{"format", "pt"}, {"producer", std::string("lmforge ") + kSdkVersion}});
  summary.weights = weights;

  YAML::Node description = YAML::LoadFile((fs::path(stage.dir) / "stage.yaml").string());
  std::ostringstream config;
  config << "{\n  \"format\": \"lmforge\",\n  \"format_version\": 1,\n  \"lmforge\": "
         << io::json_quoted(kSdkVersion) << ",\n  \"torch\": " << io::json_quoted(TORCH_VERSION)
         << ",\n  \"source\": "
         << io::json_quoted(fs::absolute(stage.dir).lexically_normal().string())
         << ",\n  \"weights\": " << io::json_quoted(fs::path(weights).filename().string())
         << ",\n  \"vocab_size\": " << description["vocab_size"].as<std::int64_t>(0)
         << ",\n  \"num_outputs\": " << description["num_outputs"].as<std::int64_t>(0)
         << ",\n  \"special_tokens\": {\"<pad>\": 0, \"<unk>\": 1, \"<bos>\": 2, \"<eos>\": 3}";
  for (const char* part : {"task", "tokenizer", "backbone", "head"}) {
    config << ",\n  " << io::json_quoted(part) << ": "
           << resolved_component(part, description[part]);
  }
  config << ",\n  \"tensors\": {\n    " << roles << "\n  }\n}\n";
  summary.config = (out_dir / "config.json").string();
  io::write_text_atomically(summary.config, config.str());

  const fs::path vocabulary = fs::path(stage.dir) / "vocab.txt";
  if (fs::exists(vocabulary)) {
    summary.vocabulary = (out_dir / "vocab.txt").string();
    if (fs::absolute(vocabulary).lexically_normal() != fs::path(summary.vocabulary)) {
      fs::copy_file(vocabulary, summary.vocabulary, fs::copy_options::overwrite_existing);
    }
  }

  if (check_tokens > 0) {
    torch::NoGradGuard no_grad;
    const auto vocab = description["vocab_size"].as<std::int64_t>(0);
    if (vocab < 2) throw DataError(stage.dir + "/stage.yaml", "has no vocab_size");
    torch::Tensor ids = check_ids(vocab, check_tokens);
    auto device = model.parameters().empty() ? torch::Device(torch::kCPU)
                                             : model.parameters().front().device();
    Features features = model.backbone().forward(BackboneInput{ids.to(device), {}, {}});
    torch::Tensor logits = model.head().forward(features).to(torch::kCPU, torch::kFloat);
    summary.check = (out_dir / "check.safetensors").string();
    write_safetensors(summary.check, {{"input_ids", ids}, {"logits", logits}},
                      {{"producer", std::string("lmforge ") + kSdkVersion}});
  }
  return summary;
}

}  // namespace lmforge::interop
