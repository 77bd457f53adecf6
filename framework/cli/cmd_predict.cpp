// `lmforge predict RUN --text "..." | --file F`: labels texts with whatever task the run's stage
// trained, through Task::predict. A per-text label prints as `label<TAB>probability<TAB>text`; a
// per-token labelling prints CoNLL-style (`token<TAB>label<TAB>probability`, a blank line after
// each text) so the output reads back as tagging data.
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "lmforge/error.h"
#include "lmforge/text_file.h"
#include "plugins/plugin_loader.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {
namespace {

void print_prediction(const Prediction& prediction, const std::string& text) {
  std::cout << std::fixed << std::setprecision(3);
  if (prediction.tokens.empty()) {
    for (std::size_t r = 0; r < prediction.labels.size(); ++r) {
      std::cout << prediction.labels[r] << "\t" << prediction.scores[r] << "\t" << text << "\n";
    }
    return;
  }
  for (std::size_t t = 0; t < prediction.tokens.size(); ++t) {
    std::cout << prediction.tokens[t] << "\t" << prediction.labels[t] << "\t"
              << prediction.scores[t] << "\n";
  }
  std::cout << "\n";
}

}  // namespace

int predict_command(const Args& args) {
  po::options_description options("lmforge predict RUN [options]");
  options.add_options()("help,h", "show this help")(
      "text", po::value<std::vector<std::string>>()->composing(), "a text to label (repeatable)")(
      "file", po::value<std::string>(), "label every line of this file")(
      "encoding", po::value<std::string>()->default_value("utf-8"), "encoding of --file");
  add_plugin_path_option(options);
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
  load_plugins(parsed);
  configure_runtime(0);
  // A stage directory as given, or a run directory's last stage whose task labels texts.
  const std::string& run = parsed.positional[0];
  LoadedStage stage = load_stage(run, stage_task_can_predict, "whose task labels texts");
  if (!stage.task->can_predict()) {
    throw ConfigError(stage.dir, "this stage's task is '" + stage.components.task.type +
                                     "', which does not label texts; give a stage whose task does "
                                     "(e.g. classification or tagging)");
  }
  auto predictions = stage.task->predict(*stage.model, *stage.tokenizer, texts);
  for (std::size_t i = 0; i < texts.size(); ++i) print_prediction(predictions.at(i), texts[i]);
  return 0;
}

}  // namespace lmforge::cli
