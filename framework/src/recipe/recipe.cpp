#include "recipe/recipe.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "config/error_list.h"
#include "config/suggest.h"
#include "config/yaml_options.h"
#include "io/atomic_file.h"
#include "lmforge/error.h"
#include "lmforge/registry.h"

namespace lmforge {
namespace fs = std::filesystem;

bool InitSpec::has(const std::string& part) const {
  return std::find(parts.begin(), parts.end(), part) != parts.end();
}

void InitSpec::visit(OptionVisitor& v) {
  v.field("from", from,
          "earlier stage name, or a run/stage directory to take parts from (a relative path "
          "starts at the working directory, not the recipe's folder), or with format another "
          "framework's model; needed unless vectors is given");
  v.field("parts", parts, "parts to take: tokenizer, backbone, head");
  v.choice("vocabulary", vocabulary, {"keep", "extend"},
           "keep the source's vocabulary, or extend it with this stage's words (ULMFiT)");
  v.field("min_count", min_count, "with vocabulary: extend, how often a new word must occur")
      .positive();
  v.field("vectors", vectors,
          "pre-trained word vectors for the backbone's input embedding: a file (see format), an "
          "earlier stage's name, or a run/stage directory of lmforge (its input embedding)");
  v.field("format", format,
          "with vectors: the file's format, word2vec (text, `V D` header; the default), "
          "word2vec-binary or glove (text, no header). Without vectors: from is another "
          "framework's model, read by the importer of this name (e.g. hf-gpt2: a Hugging Face "
          "GPT-2 folder or its model.safetensors, with vocab.json and merges.txt beside it; "
          "`lmforge plugins` lists kind importer)");
  v.field("freeze", freeze, "keep the whole input embedding fixed while training (static)");
}

void GenerateSpec::visit(OptionVisitor& v) {
  v.field("prompts", prompts, "texts to continue after training");
  v.field("max_tokens", max_tokens, "tokens to generate per prompt").positive();
  v.field("temperature", temperature, "softmax temperature (0 = greedy)").non_negative();
  v.field("top_k", top_k, "sample from the k most likely tokens (0 = all)").non_negative();
  v.field("top_p", top_p, "nucleus sampling mass").range(0, 1);
  v.field("seed", seed, "sampling seed");
}

void TrainSpec::visit(OptionVisitor& v) {
  v.field("epochs", epochs, "passes over the training data").positive();
  v.field("max_steps", max_steps, "stop after this many steps (0 = no limit)").non_negative();
  v.field("batch_size", batch_size, "examples (or parallel streams for LMs) per step").positive();
  v.component("optimizer", optimizer, "optimizer", "optimizer and its settings");
  v.component("schedule", schedule, "schedule", "learning-rate schedule");
  v.field("clip_grad_norm", clip_grad_norm, "clip the global gradient norm (0 = off)")
      .non_negative();
  v.field("accumulate", accumulate,
          "batches whose gradients add up before each optimizer step (an effective batch of "
          "accumulate x batch_size; steps, schedules, logging and checkpoints count updates)")
      .positive();
  v.field("eval_every", eval_every,
          "evaluate every N steps as well as each epoch (0 = epochs only)")
      .non_negative();
  v.field("checkpoint_every", checkpoint_every,
          "checkpoint every N steps as well as each epoch (0 = epochs only)")
      .non_negative();
  v.field("log_every", log_every, "progress line every N steps").positive();
  v.field("keep_checkpoints", keep_checkpoints, "checkpoints kept on disk").positive();
  v.field("freeze", freeze, "parts kept fixed: backbone, head, or backbone.N (layer group N)");
  v.choice("unfreeze", unfreeze, {"none", "gradual"},
           "gradual: one more layer group trainable each epoch, top first");
  v.field("discriminative_lr", discriminative_lr,
          "each lower layer group's rate is divided by this (ULMFiT uses 2.6; 1 = off)")
      .positive();
  v.field("patience", patience, "stop after N evaluations without improvement (0 = off)")
      .non_negative();
  v.choice("precision", precision, {"fp32", "bf16", "fp16"},
           "arithmetic of the forward pass (autocast; weights, optimizer and checkpoints stay "
           "fp32; fp16 adds a loss scale and skips steps whose gradients overflow)");
  v.field("metrics", metrics,
          "extra metrics of a labelled task's evaluation, by registered name (e.g. cohen_kappa; "
          "`lmforge plugins` lists kind metric)");
  v.choice("nonfinite_loss", nonfinite_loss, {"stop", "skip"},
           "a batch whose loss is NaN or infinite: stop the stage (naming the step, the last "
           "finite loss and the newest checkpoint) or skip the batch (counted in train_end)");
}

void StageSpec::visit(OptionVisitor& v) {
  v.field("name", name, "stage name (a directory under the run)").required();
  v.component("task", task, "task", "what to train on").required();
  v.component("tokenizer", tokenizer, "tokenizer", "text to ids (default: from init or word)");
  v.component("backbone", backbone, "backbone", "model body (default: from init)");
  v.component("head", head, "head", "output head");
  v.group(
      "init", [this](OptionVisitor& g) { init.visit(g); }, "start from an earlier stage");
  v.group(
      "adapters", [this](OptionVisitor& g) { adapters.visit(g); },
      "low-rank adapters (LoRA) on the initialised backbone, which is then frozen");
  v.group(
      "train", [this](OptionVisitor& g) { train.visit(g); }, "training settings");
  v.group(
      "generate", [this](OptionVisitor& g) { generate.visit(g); }, "sample text after training");
}

void DataGeneratorSpec::visit(OptionVisitor& v) {
  v.choice("type", type, {"toy_grammar"}, "generator");
  v.field("sentences", sentences, "sentences to generate").positive();
  v.field("seed", seed, "generator seed");
  v.field("labelled_fraction", labelled_fraction,
          "fraction of sentences that keep their topic label for fine-tuning")
      .range(0, 1);
}

void RecipeSpec::visit(OptionVisitor& v) {
  v.field("name", name, "recipe name (the run directory)").required();
  v.field("seed", seed, "random seed for every stage");
  v.field("threads", threads, "CPU threads (0 = all cores)").non_negative();
  v.choice("device", device, {"cpu", "cuda"}, "where to train");
  v.field("plugins", plugins, "extra plugin files or folders to load");
  v.group(
      "generate_data", [this](OptionVisitor& g) { generate_data.visit(g); },
      "make a synthetic data set under ${run}/data before the stages");
}

std::string resolve_data_dir(const std::string& from_command_line) {
  if (!from_command_line.empty()) return from_command_line;
  if (const char* env = std::getenv("LMFORGE_DATA")) {
    if (*env) return env;
  }
  return "data";
}

namespace {

std::string interpolate(const std::string& text, const std::map<std::string, std::string>& vars,
                        const std::string& place) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t open = text.find("${", pos);
    if (open == std::string::npos) break;
    std::size_t close = text.find('}', open);
    if (close == std::string::npos) throw ConfigError(place, "unclosed '${' in '" + text + "'");
    out += text.substr(pos, open - pos);
    std::string name = text.substr(open + 2, close - open - 2);
    if (name.rfind("env:", 0) == 0) {
      const char* value = std::getenv(name.substr(4).c_str());
      if (!value) {
        throw ConfigError(place, "environment variable " + name.substr(4) +
                                     " is not set (used as ${" + name + "})");
      }
      out += value;
    } else {
      auto it = vars.find(name);
      if (it == vars.end()) {
        std::vector<std::string> known;
        for (const auto& [k, val] : vars) known.push_back(k);
        known.push_back("env:NAME");
        throw ConfigError(place, "unknown variable ${" + name + "}" + did_you_mean(name, known) +
                                     "; known: " + join_names(known));
      }
      out += it->second;
    }
    pos = close + 1;
  }
  return out + text.substr(pos);
}

// yaml-cpp ends a flow map at its first `}`, so `task: {train: ${data}/train.txt}` did not parse
// ("end of map flow not found"), though every example writes recipes that way. Before parsing,
// each `${NAME}` on one line becomes `$<NAME>`: the same length, so every mark keeps its
// line:col, and no flow indicator; reveal_tree turns it back right after parsing. A text that
// already holds `$<` is left as it is, so nothing a user wrote is ever rewritten.
constexpr char kHiddenOpen[] = "$<";
constexpr char kHiddenClose = '>';

bool hide_variables(std::string& text) {
  if (text.find(kHiddenOpen) != std::string::npos) return false;
  bool hidden = false;
  for (std::size_t open = text.find("${"); open != std::string::npos;
       open = text.find("${", open + 2)) {
    // Only a well-formed `${NAME}`: anything else is left for interpolate() to report.
    std::size_t close = open + 2;
    while (close < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[close])) || text[close] == '_' ||
            text[close] == ':' || text[close] == '-' || text[close] == '.')) {
      ++close;
    }
    if (close == text.size() || text[close] != '}') continue;
    text[open + 1] = '<';
    text[close] = kHiddenClose;
    hidden = true;
  }
  return hidden;
}

std::string reveal_variables(std::string text) {
  for (std::size_t open = text.find(kHiddenOpen); open != std::string::npos;
       open = text.find(kHiddenOpen, open + 2)) {
    std::size_t close = text.find(kHiddenClose, open + 2);
    if (close == std::string::npos) break;
    text[open + 1] = '{';
    text[close] = '}';
  }
  return text;
}

/// Undoes hide_variables in every scalar of the parsed file, before command-line overrides are
/// merged in (so an override's own text is never touched).
void reveal_tree(YAML::Node node) {
  if (node.IsScalar()) {
    if (node.Scalar().find(kHiddenOpen) != std::string::npos) {
      node = reveal_variables(node.Scalar());  // as interpolate_tree: the mark is kept
    }
  } else if (node.IsSequence() || node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      reveal_tree(node.IsMap() ? it->second : *it);
    }
  }
}

void interpolate_tree(YAML::Node node, const std::map<std::string, std::string>& vars,
                      const ConfigNode& root) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") != std::string::npos) {
      // Keep the mark: assigning a string would drop it, so rebuild via the node's own scalar.
      node = interpolate(text, vars, root.place_of(node));
    }
  } else if (node.IsSequence() || node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      interpolate_tree(node.IsMap() ? it->second : *it, vars, root);
    }
  }
}

/// A copy of `node` without source marks. YAML::Load marks what it parses as line 1 of a file,
/// which error messages would then blame on the recipe; a value set on the command line must be
/// reported by its key path instead (see ConfigNode::place_of).
YAML::Node without_marks(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return YAML::Node(node.Scalar());
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& item : node) out.push_back(without_marks(item));
      return out;
    }
    case YAML::NodeType::Map: {
      YAML::Node out(YAML::NodeType::Map);
      for (const auto& entry : node) out[entry.first.Scalar()] = without_marks(entry.second);
      return out;
    }
    default:
      return YAML::Node(YAML::NodeType::Null);
  }
}

void apply_override(YAML::Node root, const std::string& assignment) {
  const std::string place = "command line override '" + assignment + "'";
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(place, "expected KEY=VALUE, e.g. stages.pretrain.train.epochs=3");
  }
  std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = without_marks(YAML::Load(assignment.substr(eq + 1)));
  } catch (const YAML::Exception& e) {
    throw ConfigError(place, "value is not valid YAML: " + e.msg);
  }
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= key.size()) {
    std::size_t dot = key.find('.', start);
    if (dot == std::string::npos) dot = key.size();
    segments.push_back(key.substr(start, dot - start));
    start = dot + 1;
  }
  YAML::Node current;
  current.reset(root);
  std::string walked;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& seg = segments[i];
    bool last = i + 1 == segments.size();
    if (seg.empty()) throw ConfigError(place, "empty key segment in '" + key + "'");
    if (current.IsSequence()) {
      // Stages are addressed by name (stages.pretrain) or by index (stages.0).
      YAML::Node found;
      std::vector<std::string> names;
      for (std::size_t j = 0; j < current.size(); ++j) {
        YAML::Node item = current[j];
        std::string n = item.IsMap() && item["name"] ? item["name"].as<std::string>("") : "";
        names.push_back(n);
        if (n == seg || std::to_string(j) == seg) found.reset(item);
      }
      if (!found.IsDefined() || found.IsNull()) {
        throw ConfigError(place, "no entry '" + seg + "' in " + walked + did_you_mean(seg, names) +
                                     "; entries: " + join_names(names));
      }
      if (last) throw ConfigError(place, "cannot replace a whole list entry; set one of its keys");
      current.reset(found);
    } else {
      if (!current.IsMap() && !current.IsNull()) {
        throw ConfigError(place, walked + " is a single value, not a mapping");
      }
      if (last) {
        current[seg] = value;
      } else {
        YAML::Node next = current[seg];
        if (!next.IsDefined() || next.IsNull()) {
          current[seg] = YAML::Node(YAML::NodeType::Map);
          next.reset(current[seg]);
        }
        current.reset(next);
      }
    }
    walked += (walked.empty() ? "" : ".") + seg;
  }
}

}  // namespace

RecipeSpec load_recipe(const std::string& path, const RecipeContext& context) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw ConfigError(path, "recipe file not found");
  YAML::Node root;
  try {
    std::string text = io::read_text(path);
    const bool hidden = hide_variables(text);
    root = YAML::Load(text);
    if (hidden) reveal_tree(root);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(
        path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
        "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path, std::string("cannot read recipe: ") + e.what());
  }
  if (!root.IsMap()) throw ConfigError(path, "a recipe must be a mapping with 'name' and 'stages'");
  for (const auto& assignment : context.overrides) apply_override(root, assignment);

  RecipeSpec recipe;
  recipe.file = path;
  ConfigNode top(root, path, "");
  // The run directory depends on the name, which must be known before ${run} is interpolated.
  std::string name = root["name"] && root["name"].IsScalar() ? root["name"].Scalar() : "";
  if (name.empty()) throw ConfigError(path, "missing required option 'name'");
  recipe.run_dir = (fs::path(context.out_dir) / name).string();
  std::map<std::string, std::string> vars{
      {"data", fs::path(resolve_data_dir(context.data_dir)).lexically_normal().string()},
      {"run", recipe.run_dir},
      {"recipe_dir", fs::path(path).parent_path().string().empty()
                         ? "."
                         : fs::path(path).parent_path().string()}};
  interpolate_tree(root, vars, top);

  // Every mistake of the recipe's own keys (top level and each stage's) is reported at once.
  ErrorCollector errors;
  YamlOptionReader reader(top, "recipe", {"stages"});
  errors.attempt([&] { reader.read([&](OptionVisitor& v) { recipe.visit(v); }); });

  ConfigNode stages = top.child("stages");
  if (!stages.yaml().IsDefined() || !stages.yaml().IsSequence() || stages.yaml().size() == 0) {
    errors.add(ConfigError(top.place(), "recipe needs 'stages:', a non-empty list of stages"));
    errors.throw_if_any();
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < stages.yaml().size(); ++i) {
    YAML::Node item = stages.yaml()[i];
    std::string label =
        item.IsMap() && item["name"] ? item["name"].as<std::string>("") : std::to_string(i);
    ConfigNode stage_node(item, path, "stages." + label);
    if (!item.IsMap()) {
      // Not the `type` shorthand a component's scalar is: a stage has no default settings. (This
      // once reached item["generate"] below, where yaml-cpp threw BadSubscript; fuzz_recipe.)
      errors.add(ConfigError(stage_node.place(),
                             "stage " + label + " must be a mapping of its settings (name:, " +
                                 "task:, backbone:, ...), found " +
                                 (item.IsScalar() ? "'" + item.Scalar() + "'" : "a list")));
      continue;
    }
    StageSpec stage;
    stage.place = stage_node.place();
    YamlOptionReader stage_reader(stage_node, "stage '" + label + "'", {});
    errors.attempt([&] { stage_reader.read([&](OptionVisitor& v) { stage.visit(v); }); });
    stage.has_generate = item["generate"].IsDefined();
    if (!names.insert(stage.name).second) {
      errors.add(ConfigError(stage.place, "two stages are named '" + stage.name + "'"));
    }
    recipe.stages.push_back(std::move(stage));
  }
  recipe.resolved = root;
  if (!context.defer_option_errors) {
    errors.throw_if_any();
  } else if (!errors.empty()) {
    try {
      errors.throw_if_any();
    } catch (const Error&) {
      recipe.option_errors = std::current_exception();
    }
  }
  return recipe;
}

int find_stage(const RecipeSpec& recipe, const std::string& name) {
  for (std::size_t i = 0; i < recipe.stages.size(); ++i) {
    if (recipe.stages[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace lmforge
