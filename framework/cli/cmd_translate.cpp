// `lmforge translate RUN --text "..." | --file F [--beam 5] [--ref FILE]`: translates with the
// last stage of a run whose task translates (lmforge/seq2seq.h's Translator), one translation per
// line; with --ref, corpus BLEU against the reference file on stderr.
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "lmforge/bleu.h"
#include "lmforge/error.h"
#include "lmforge/seq2seq.h"
#include "lmforge/text_file.h"
#include "plugins/plugin_loader.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {

int translate_command(const Args& args) {
  po::options_description options("lmforge translate RUN [options]");
  options.add_options()("help,h", "show this help")(
      "text", po::value<std::vector<std::string>>()->composing(),
      "a sentence to translate (repeatable)")("file", po::value<std::string>(),
                                              "translate every line of this file")(
      "encoding", po::value<std::string>()->default_value("utf-8"), "encoding of --file/--ref")(
      "beam", po::value<std::int64_t>()->default_value(1), "beam size (1 = greedy search)")(
      "length-penalty", po::value<double>()->default_value(1.0),
      "rank finished hypotheses by log-probability / length^this")(
      "max-length-a", po::value<double>()->default_value(1.5),
      "stop at max-length-a * source tokens + max-length-b")(
      "max-length-b", po::value<std::int64_t>()->default_value(10), "see --max-length-a")(
      "batch-size", po::value<std::int64_t>()->default_value(64), "sentences decoded together")(
      "ref", po::value<std::string>(),
      "reference translations, line-aligned with the input: print corpus BLEU to stderr")(
      "tokenize", po::value<std::string>()->default_value("13a"),
      "BLEU tokenisation for --ref: 13a (sacreBLEU's default, raw text) or none (tokenised)");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("translate", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge translate RUN (--text TEXT | --file FILE) [--beam N] [--ref FILE]",
                options);
    return 0;
  }
  if (parsed.positional.size() != 1) {
    throw ConfigError("lmforge translate",
                      "expected one RUN directory (runs/NAME or runs/NAME/STAGE)");
  }
  DecodeOptions decode;
  decode.beam = parsed.values["beam"].as<std::int64_t>();
  decode.length_penalty = parsed.values["length-penalty"].as<double>();
  decode.max_length_a = parsed.values["max-length-a"].as<double>();
  decode.max_length_b = parsed.values["max-length-b"].as<std::int64_t>();
  decode.batch_size = parsed.values["batch-size"].as<std::int64_t>();
  if (decode.beam < 1) throw ConfigError("--beam", "must be at least 1 (1 = greedy search)");
  if (decode.length_penalty < 0) throw ConfigError("--length-penalty", "must be 0 or greater");
  if (decode.max_length_a < 0) throw ConfigError("--max-length-a", "must be 0 or greater");
  if (decode.max_length_b < 0) throw ConfigError("--max-length-b", "must be 0 or greater");
  if (decode.batch_size < 1) throw ConfigError("--batch-size", "must be at least 1");
  const std::string tokenize = parsed.values["tokenize"].as<std::string>();
  if (tokenize != "13a" && tokenize != "none") {
    throw ConfigError("--tokenize", "must be 13a or none, got '" + tokenize + "'");
  }
  const std::string encoding = parsed.values["encoding"].as<std::string>();
  std::vector<std::string> texts;
  if (parsed.values.count("text")) texts = parsed.values["text"].as<std::vector<std::string>>();
  if (parsed.values.count("file")) {
    std::string path = parsed.values["file"].as<std::string>();
    require_readable_file(path, "--file", "lmforge translate");
    for_each_line(path, encoding, path,
                  [&](const std::string& line, std::int64_t) { texts.push_back(line); });
  }
  if (texts.empty()) throw ConfigError("lmforge translate", "give --text TEXT or --file FILE");
  std::vector<std::string> references;
  if (parsed.values.count("ref")) {
    std::string path = parsed.values["ref"].as<std::string>();
    require_readable_file(path, "--ref", "lmforge translate");
    for_each_line(path, encoding, path,
                  [&](const std::string& line, std::int64_t) { references.push_back(line); });
    if (references.size() != texts.size()) {
      throw DataError("--ref", "'" + path + "' has " + std::to_string(references.size()) +
                                   " lines but there are " + std::to_string(texts.size()) +
                                   " sentences to translate; give one reference per sentence");
    }
  }
  load_plugins(parsed);
  configure_runtime(0);
  LoadedStage stage =
      load_stage(parsed.positional[0], stage_task_translates, "whose task translates");
  auto* translator = dynamic_cast<Translator*>(stage.task.get());
  if (translator == nullptr) {
    throw ConfigError(stage.dir, "this stage's task is '" + stage.components.task.type +
                                     "', which does not translate; give a run whose task does "
                                     "(e.g. seq2seq)");
  }
  auto translations = translator->translate(*stage.model, *stage.tokenizer, texts, decode);
  for (const auto& line : translations) std::cout << line << "\n";
  if (!references.empty()) {
    std::cerr << corpus_bleu(translations, references, tokenize).format() << " (tokenize "
              << tokenize << ", "
              << (decode.beam == 1 ? std::string("greedy") : "beam " + std::to_string(decode.beam))
              << ")\n";
  }
  return 0;
}

}  // namespace lmforge::cli
