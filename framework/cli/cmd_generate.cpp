// `lmforge generate RUN --prompt TEXT [--num-samples N]`: sample from a trained language model;
// N continuations decode together as one batch and print one after another.
#include <iostream>

#include "cli.h"
#include "cli_options.h"
#include "generate/sampler.h"
#include "lmforge/error.h"
#include "plugins/plugin_loader.h"
#include "train/runtime.h"
#include "train/stage_artifacts.h"

namespace lmforge::cli {

int generate_command(const Args& args) {
  po::options_description options("lmforge generate RUN [options]");
  options.add_options()("help,h", "show this help")(
      "prompt", po::value<std::string>()->default_value(""), "text to continue")(
      "max-tokens", po::value<std::int64_t>()->default_value(50), "tokens to generate")(
      "temperature", po::value<double>()->default_value(1.0), "softmax temperature (0 = greedy)")(
      "top-k", po::value<std::int64_t>()->default_value(0),
      "sample among the k most likely (0 = all)")("top-p", po::value<double>()->default_value(1.0),
                                                  "nucleus sampling mass")(
      "seed", po::value<std::uint64_t>()->default_value(1),
      "sampling seed (sample i of --num-samples draws with seed + i - 1)")(
      "num-samples", po::value<std::int64_t>()->default_value(1),
      "continuations of the prompt, decoded together as one batch (one forward per new token "
      "for all of them) and printed one after another under a '--- sample i of N ---' line")(
      "stop-at-eos", "end each continuation at its first end of line (a batch ends when all have)")(
      "one-line", "show each end of line as ⏎ instead of breaking the line");
  add_plugin_path_option(options);
  Parsed parsed = parse_command("generate", args, options);
  if (parsed.values.count("help")) {
    print_usage("lmforge generate RUN [options]", options);
    return 0;
  }
  if (parsed.positional.size() != 1) {
    throw ConfigError("lmforge generate",
                      "expected one RUN directory (runs/NAME or runs/NAME/STAGE)");
  }
  SamplingOptions sampling;
  sampling.max_tokens = parsed.values["max-tokens"].as<std::int64_t>();
  sampling.temperature = parsed.values["temperature"].as<double>();
  sampling.top_k = parsed.values["top-k"].as<std::int64_t>();
  sampling.top_p = parsed.values["top-p"].as<double>();
  sampling.seed = parsed.values["seed"].as<std::uint64_t>();
  sampling.line_break = parsed.values.count("one-line") ? " ⏎ " : "\n";
  sampling.stop_at_eos = parsed.values.count("stop-at-eos") > 0;
  const std::int64_t samples = parsed.values["num-samples"].as<std::int64_t>();
  if (samples < 1) throw ConfigError("--num-samples", "must be 1 or more");
  if (sampling.max_tokens <= 0) throw ConfigError("--max-tokens", "must be greater than 0");
  if (sampling.temperature < 0) throw ConfigError("--temperature", "must be 0 or greater");
  if (sampling.top_k < 0) throw ConfigError("--top-k", "must be 0 or greater");
  if (!(sampling.top_p > 0 && sampling.top_p <= 1)) {
    throw ConfigError("--top-p", "must be in (0, 1]");
  }
  load_plugins(parsed);
  configure_runtime(0);
  LoadedStage stage = load_stage(parsed.positional[0], stage_task_trains_next_token,
                                 "whose task trains a next-token model");
  std::string prompt = parsed.values["prompt"].as<std::string>();
  auto texts =
      generate_texts(*stage.model, *stage.tokenizer, prompt, samples, sampling, torch::kCPU);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    // One sample prints as before; several each get a header line, so they cannot run together.
    if (samples > 1) std::cout << "--- sample " << i + 1 << " of " << samples << " ---\n";
    std::cout << prompt << (prompt.empty() ? "" : " ") << texts[i] << "\n";
  }
  return 0;
}

}  // namespace lmforge::cli
