// `lmforge tokenize`: what a text becomes under a tokenizer, exactly as training, generate and
// predict see it. The tokenizer is a run's (its stage options and saved vocabulary, normalisation
// and sentencepiece model included) or one described on the command line and fitted on a file,
// which is how to try vocabulary sizes and options before writing a recipe:
//
//   lmforge tokenize runs/sp --text "영화가 정말 재미있었다"
//   lmforge tokenize --tokenizer '{type: sentencepiece, vocab_size: 8000}' --fit train.txt \
//       --save out/ --file valid.txt --stats
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "config/config_node.h"
#include "lmforge/error.h"
#include "lmforge/text_file.h"
#include "lmforge/text_stats.h"
#include "plugins/plugin_loader.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {
namespace {
namespace fs = std::filesystem;

constexpr const char* kUsage =
    "lmforge tokenize (RUN | --tokenizer SPEC --fit FILE) (--text TEXT | --file FILE) [options]";

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A stage directory as given, or the last stage of a run directory that has a vocabulary.
std::string tokenizer_stage_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw DataError(dir, "run directory not found");
  if (fs::exists(fs::path(dir) / "stage.yaml", ec)) return dir;
  const fs::path recipe = fs::path(dir) / "recipe.yaml";
  if (!fs::exists(recipe, ec)) read_stage_components(dir);  // throws its clear message
  std::string found;
  try {
    for (const auto& stage : YAML::LoadFile(recipe.string())["stages"]) {
      const fs::path candidate = fs::path(dir) / stage["name"].as<std::string>();
      if (fs::exists(candidate / "vocab.txt", ec) && fs::exists(candidate / "stage.yaml", ec)) {
        found = candidate.string();
      }
    }
  } catch (const YAML::Exception& e) {
    throw DataError(recipe.string(), std::string("corrupt run description: ") + e.what());
  }
  if (found.empty()) throw DataError(dir, "no stage of this run has a vocabulary yet");
  return found;
}

// The tokenizer's options on one line.
std::string spec_text(const ComponentSpec& spec) {
  if (!spec.node) return spec.type.empty() ? "word" : spec.type;
  YAML::Emitter out;
  out << YAML::Flow << spec.node->yaml();
  return out.c_str();
}

// --tokenizer '{type: word, lowercase: true}' (or just a type name) as a component spec whose
// errors name the command-line option.
ComponentSpec parse_spec(const std::string& text) {
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("--tokenizer", std::string("not YAML: ") + e.what());
  }
  ComponentSpec spec;
  if (node.IsScalar()) {
    spec.type = node.Scalar();
    return spec;
  }
  if (!node.IsMap() || !node["type"] || !node["type"].IsScalar()) {
    throw ConfigError("--tokenizer",
                      "expected a tokenizer name or a mapping with a type, e.g. "
                      "'{type: sentencepiece, vocab_size: 8000}'");
  }
  spec.type = node["type"].Scalar();
  spec.node = std::make_shared<const ConfigNode>(node, "--tokenizer", "tokenizer");
  return spec;
}

void show(const Tokenizer& tokenizer, const std::string& text) {
  const std::vector<std::string> tokens = tokenizer.split(text);
  const std::vector<std::int64_t> ids = tokenizer.encode(text);
  UnknownShare unknown;
  unknown.add(ids);
  std::cout << "text:    " << text << "\n";
  std::cout << "tokens: ";
  const bool aligned = tokens.size() == ids.size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    // A token the vocabulary lacks is shown with what the model sees instead.
    const bool unknown_token =
        aligned && ids[i] == Vocabulary::kUnk && tokens[i] != Vocabulary::kUnkToken;
    std::cout << " [" << tokens[i] << (unknown_token ? " -> <unk>" : "") << "]";
  }
  std::cout << "\nids:    ";
  for (std::int64_t id : ids) std::cout << " " << id;
  std::cout << "\n" << report_unknown_share("unknown", unknown).line << "\n";
  std::cout << "decoded: " << tokenizer.decode(ids) << "\n";
}

// Totals for a whole file: what a corpus becomes, and how fast.
void show_stats(const Tokenizer& tokenizer, const std::string& path) {
  std::int64_t lines = 0, characters = 0;
  UnknownShare unknown;
  const auto start = Clock::now();
  for_each_line(path, "utf-8", "--file", [&](const std::string& line, std::int64_t) {
    unknown.add(tokenizer.encode(line));
    characters += count_characters(line) + 1;  // + the line break
    ++lines;
  });
  const double seconds = seconds_since(start);
  std::cout << "encoded " << lines << " lines, " << unknown.tokens << " tokens in " << std::fixed
            << std::setprecision(3) << seconds << " s (" << std::setprecision(0)
            << (seconds > 0 ? static_cast<double>(unknown.tokens) / seconds : 0.0) << " tokens/s); "
            << std::setprecision(2)
            << (unknown.tokens ? static_cast<double>(characters) / unknown.tokens : 0.0)
            << " characters per token\n"
            << report_unknown_share("unknown", unknown).line << "\n";
}

}  // namespace

int tokenize_command(const Args& args) {
  po::options_description options(kUsage);
  options.add_options()("help,h", "show this help")(
      "text", po::value<std::vector<std::string>>()->composing(), "text to tokenize (repeatable)")(
      "file", po::value<std::string>(), "tokenize each line of this UTF-8 file")(
      "stats", "with --file: totals and speed only, not every line")(
      "tokenizer", po::value<std::string>(),
      "instead of a run: a tokenizer spec, e.g. '{type: sentencepiece, vocab_size: 8000}'")(
      "fit", po::value<std::string>(),
      "with --tokenizer: build its vocabulary from this file (not needed for a tokenizer that "
      "brings its own, e.g. sentencepiece with model: FILE)")(
      "save", po::value<std::string>(),
      "with --tokenizer: write the vocabulary (and its attachments) to this folder as vocab.txt");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("tokenize", args, options);
  if (parsed.values.count("help")) {
    print_usage(kUsage, options);
    return 0;
  }
  const bool standalone = parsed.values.count("tokenizer") != 0;
  if (standalone != parsed.positional.empty() || parsed.positional.size() > 1) {
    throw ConfigError("lmforge tokenize",
                      "give one RUN directory (runs/NAME or runs/NAME/STAGE) or --tokenizer SPEC, "
                      "not both");
  }
  if (!standalone && (parsed.values.count("fit") || parsed.values.count("save"))) {
    throw ConfigError("--fit", "--fit and --save go with --tokenizer; a run has its vocabulary");
  }
  std::vector<std::string> texts;
  if (parsed.values.count("text")) texts = parsed.values["text"].as<std::vector<std::string>>();
  const std::string file =
      parsed.values.count("file") ? parsed.values["file"].as<std::string>() : "";
  if (texts.empty() && file.empty() && !parsed.values.count("save")) {
    throw ConfigError("lmforge tokenize", "give --text TEXT or --file FILE");
  }
  if (parsed.values.count("stats") && file.empty()) {
    throw ConfigError("--stats", "needs --file FILE");
  }
  load_plugins(parsed);

  std::shared_ptr<Tokenizer> tokenizer;
  std::string origin;
  ComponentSpec spec;
  if (standalone) {
    spec = parse_spec(parsed.values["tokenizer"].as<std::string>());
    tokenizer = build_tokenizer(spec, "");
    const std::string fit =
        parsed.values.count("fit") ? parsed.values["fit"].as<std::string>() : "";
    const auto start = Clock::now();
    if (!fit.empty()) {
      for_each_line(fit, "utf-8", "--fit",
                    [&](const std::string& line, std::int64_t) { tokenizer->count(line); });
    }
    tokenizer->build_vocabulary();
    std::cout << (fit.empty() ? "built" : "fitted on " + fit) << " in " << std::fixed
              << std::setprecision(3) << seconds_since(start) << " s\n";
    origin = fit.empty() ? "--tokenizer" : "fitted on " + fit;
    if (parsed.values.count("save")) {
      const fs::path dir = parsed.values["save"].as<std::string>();
      fs::create_directories(dir);
      tokenizer->vocabulary().save((dir / "vocab.txt").string());
      std::cout << "saved " << (dir / "vocab.txt").string() << "\n";
    }
  } else {
    const std::string stage_dir = tokenizer_stage_dir(parsed.positional[0]);
    spec = read_stage_components(stage_dir).tokenizer;
    tokenizer = build_tokenizer(spec, (fs::path(stage_dir) / "vocab.txt").string());
    origin = stage_dir;
  }
  std::cout << "tokenizer: " << spec_text(spec) << ", " << tokenizer->vocabulary().size()
            << " tokens (" << origin << ")\n";
  if (!file.empty() && parsed.values.count("stats")) {
    show_stats(*tokenizer, file);
  } else if (!file.empty()) {
    for_each_line(file, "utf-8", "--file",
                  [&](const std::string& line, std::int64_t) { texts.push_back(line); });
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::cout << "\n";
    show(*tokenizer, texts[i]);
  }
  return 0;
}

}  // namespace lmforge::cli
