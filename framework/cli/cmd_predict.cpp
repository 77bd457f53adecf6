// `lmforge predict RUN --text "..." | --file F`: label texts with a trained classification stage,
// or tag their words with a trained tagging stage.
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "data/text_file.h"
#include "lmforge/error.h"
#include "plugins/plugin_loader.h"
#include "tasks/classification.h"
#include "tasks/tagging.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {
namespace {

// CoNLL-style, so the output reads back as tagging data: `token<TAB>tag<TAB>probability` per line,
// a blank line after each text.
void print_tags(TaggingTask& tagger, LoadedStage& stage, const std::vector<std::string>& texts) {
  const auto& labels = tagger.labels();
  for (const auto& sentence : tagger.predict(*stage.model, *stage.tokenizer, texts)) {
    for (std::size_t t = 0; t < sentence.tokens.size(); ++t) {
      auto row = sentence.probabilities[static_cast<std::int64_t>(t)];
      auto best = row.argmax().item<std::int64_t>();
      std::cout << sentence.tokens[t] << "\t" << labels[static_cast<std::size_t>(best)] << "\t"
                << std::fixed << std::setprecision(3) << row[best].item<float>() << "\n";
    }
    std::cout << "\n";
  }
}

}  // namespace

int predict_command(const Args& args) {
  po::options_description options("lmforge predict RUN [options]");
  options.add_options()("help,h", "show this help")(
      "text", po::value<std::vector<std::string>>()->composing(), "a text to label (repeatable)")(
      "file", po::value<std::string>(), "label every line of this file")(
      "encoding", po::value<std::string>()->default_value("utf-8"), "encoding of --file")(
      "plugin-path", po::value<std::vector<std::string>>()->composing(),
      "extra plugin file or folder (repeatable)");
  Parsed parsed = parse_command("predict", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge predict RUN (--text TEXT | --file FILE)", options);
    return 0;
  }
  if (parsed.positional.size() != 1) {
    throw ConfigError("lmforge predict",
                      "expected one RUN directory (runs/NAME or runs/NAME/STAGE)");
  }
  std::vector<std::string> texts;
  if (parsed.values.count("text")) texts = parsed.values["text"].as<std::vector<std::string>>();
  if (parsed.values.count("file")) {
    std::string path = parsed.values["file"].as<std::string>();
    require_readable_file(path, "--file", "lmforge predict");
    for_each_line(path, parsed.values["encoding"].as<std::string>(), path,
                  [&](const std::string& line, std::int64_t) { texts.push_back(line); });
  }
  if (texts.empty()) throw ConfigError("lmforge predict", "give --text TEXT or --file FILE");
  std::vector<std::string> extra;
  if (parsed.values.count("plugin-path")) {
    extra = parsed.values["plugin-path"].as<std::vector<std::string>>();
  }
  PluginLoader::instance().load_default_paths(extra);
  configure_runtime(0);
  // A run directory's last stage when it labels (classification or tagging), else its last
  // classification stage.
  LoadedStage stage = load_stage(parsed.positional[0]);
  const std::string type = stage.components.task.type;
  if (type != "classification" && type != "tagging") {
    stage = load_stage(parsed.positional[0], "classification");
  }
  if (auto* tagger = dynamic_cast<TaggingTask*>(stage.task.get())) {
    print_tags(*tagger, stage, texts);
    return 0;
  }
  auto* classifier = dynamic_cast<ClassificationTask*>(stage.task.get());
  if (classifier == nullptr) {
    throw ConfigError(stage.dir, "this stage's task is '" + stage.components.task.type +
                                     "'; predict needs a classification or tagging stage");
  }
  auto labels = classifier->labels();
  auto probabilities = classifier->predict(*stage.model, *stage.tokenizer, texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    auto row = probabilities[static_cast<std::int64_t>(i)];
    auto best = row.argmax().item<std::int64_t>();
    std::cout << labels[static_cast<std::size_t>(best)] << "\t" << std::fixed
              << std::setprecision(3) << row[best].item<float>() << "\t" << texts[i] << "\n";
  }
  return 0;
}

}  // namespace lmforge::cli
