#include "hf_gpt2_importer.h"

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "lmforge/error.h"
#include "lmforge/safetensors.h"
#include "lmforge/vocabulary.h"

namespace lmforge {
namespace fs = std::filesystem;
namespace {

std::int64_t field(const YAML::Node& config, const char* name, const std::string& place) {
  if (!config[name]) throw DataError(place, std::string("has no '") + name + "'");
  return config[name].as<std::int64_t>();
}

}  // namespace

ImportedModel HfGpt2Importer::read(const std::string& source) {
  // The folder save_pretrained wrote, or its model.safetensors (the rest lies beside it).
  std::error_code ec;
  const fs::path dir =
      fs::is_regular_file(source, ec) ? fs::path(source).parent_path() : fs::path(source);
  for (const char* file : {"config.json", "model.safetensors", "vocab.json", "merges.txt"}) {
    if (!fs::exists(dir / file)) {
      throw DataError((dir / file).string(),
                      "is missing: hf-gpt2 reads a folder saved by transformers' save_pretrained "
                      "(config.json, model.safetensors) with its tokenizer's vocab.json and "
                      "merges.txt");
    }
  }
  const std::string config_place = (dir / "config.json").string();
  YAML::Node config;
  try {
    config = YAML::LoadFile(config_place);
  } catch (const YAML::Exception& e) {
    throw DataError(config_place, "is not JSON: " + std::string(e.what()));
  }
  const auto layers = field(config, "n_layer", config_place);
  const auto heads = field(config, "n_head", config_place);
  const auto width = field(config, "n_embd", config_place);
  const auto positions = field(config, "n_positions", config_place);
  const auto vocab = field(config, "vocab_size", config_place);
  const auto inner = config["n_inner"] && !config["n_inner"].IsNull()
                         ? config["n_inner"].as<std::int64_t>()
                         : 4 * width;
  const auto activation = config["activation_function"].as<std::string>("gelu_new");
  const auto epsilon = config["layer_norm_epsilon"].as<double>(1e-5);
  const auto dropout = config["resid_pdrop"].as<double>(0.1);
  if (activation != "gelu_new" && activation != "gelu_pytorch_tanh") {
    throw DataError(config_place, "activation_function '" + activation +
                                      "' is not GPT-2's tanh GELU; only gelu_new is mapped");
  }
  if (std::abs(epsilon - 1e-5) > 1e-12) {
    throw DataError(config_place, "layer_norm_epsilon must be 1e-5 (the transformer's)");
  }
  if (inner % width != 0) {
    throw DataError(config_place, "n_inner " + std::to_string(inner) +
                                      " is not a multiple of n_embd " + std::to_string(width));
  }
  if (!config["scale_attn_weights"].as<bool>(true) ||
      config["scale_attn_by_inverse_layer_idx"].as<bool>(false)) {
    throw DataError(config_place,
                    "attention scaled other than by 1/sqrt(head width) "
                    "(scale_attn_weights, scale_attn_by_inverse_layer_idx) is not "
                    "mapped");
  }
  if (!config["tie_word_embeddings"].as<bool>(true)) {
    throw DataError(config_place, "tie_word_embeddings is false: only tied GPT-2s are mapped");
  }

  const std::string weights_place = (dir / "model.safetensors").string();
  std::map<std::string, torch::Tensor> weights;
  for (auto& [name, tensor] : read_safetensors(weights_place).tensors) {
    // save_pretrained writes "transformer.h.0…"; the original checkpoints "h.0…".
    std::string key = name.rfind("transformer.", 0) == 0 ? name.substr(12) : name;
    weights[key] = tensor.to(torch::kFloat);
  }
  auto take = [&](const std::string& name) {
    auto it = weights.find(name);
    if (it == weights.end()) throw DataError(weights_place, "has no tensor '" + name + "'");
    torch::Tensor t = it->second;
    weights.erase(it);
    return t;
  };

  ImportedModel out;
  auto put = [&](const std::string& name, torch::Tensor t) {
    out.tensors.emplace_back(name, t.contiguous());
  };
  // Token i of vocab.json is vocabulary id i + 4: four zero rows for lmforge's specials first.
  torch::Tensor wte = take("wte.weight");
  if (wte.size(0) != vocab || wte.size(1) != width) {
    throw DataError(weights_place, "wte is not [vocab_size, n_embd]");
  }
  const std::int64_t specials = Vocabulary::kEos + 1;
  put("backbone.token_embedding.weight", torch::cat({torch::zeros({specials, width}), wte}));
  put("backbone.position_embedding.weight", take("wpe.weight"));
  for (std::int64_t i = 0; i < layers; ++i) {
    const std::string hf = "h." + std::to_string(i) + ".";
    const std::string lm = "backbone.blocks." + std::to_string(i) + ".";
    put(lm + "attention_norm.weight", take(hf + "ln_1.weight"));
    put(lm + "attention_norm.bias", take(hf + "ln_1.bias"));
    // Conv1D keeps [in, out]; queries, keys and values stay in GPT-2's head-major order, which
    // is the transformer's qkv layout.
    put(lm + "qkv.weight", take(hf + "attn.c_attn.weight").t());
    put(lm + "qkv.bias", take(hf + "attn.c_attn.bias"));
    put(lm + "proj.weight", take(hf + "attn.c_proj.weight").t());
    put(lm + "proj.bias", take(hf + "attn.c_proj.bias"));
    put(lm + "ff_norm.weight", take(hf + "ln_2.weight"));
    put(lm + "ff_norm.bias", take(hf + "ln_2.bias"));
    put(lm + "ff_in.weight", take(hf + "mlp.c_fc.weight").t());
    put(lm + "ff_in.bias", take(hf + "mlp.c_fc.bias"));
    put(lm + "ff_out.weight", take(hf + "mlp.c_proj.weight").t());
    put(lm + "ff_out.bias", take(hf + "mlp.c_proj.bias"));
    // Older checkpoints keep the causal mask as a buffer: the transformer builds its own.
    weights.erase(hf + "attn.bias");
    weights.erase(hf + "attn.masked_bias");
  }
  put("backbone.final_norm.weight", take("ln_f.weight"));
  put("backbone.final_norm.bias", take("ln_f.bias"));
  weights.erase("lm_head.weight");  // tied to wte
  if (!weights.empty()) {
    std::string names;
    for (const auto& [name, t] : weights) names += (names.empty() ? "" : ", ") + name;
    throw DataError(weights_place, "has tensors GPT-2 does not have: " + names);
  }

  const std::string absolute = fs::absolute(dir).lexically_normal().string();
  std::ostringstream yaml;
  yaml << "task: {type: language_modeling, train: ''}\n"
       << "tokenizer: {type: gpt2_bpe, vocab: '" << absolute << "/vocab.json', merges: '"
       << absolute << "/merges.txt'}\n"
       << "backbone: {type: transformer, mode: causal, layers: " << layers << ", heads: " << heads
       << ", width: " << width << ", ff_mult: " << inner / width << ", dropout: " << dropout
       << ", max_positions: " << positions
       << ", positions: learned, norm: pre, bias: true, activation: gelu_tanh}\n"
       << "head: {type: lm, tie_weights: true, bias: false}\n";
  out.components_yaml = yaml.str();
  out.notes.push_back("GPT-2 with " + std::to_string(layers) + " layers, " + std::to_string(heads) +
                      " heads, width " + std::to_string(width) + ", " + std::to_string(positions) +
                      " positions, " + std::to_string(vocab) +
                      " tokens (ids shifted by 4 for lmforge's specials)");
  return out;
}

}  // namespace lmforge
