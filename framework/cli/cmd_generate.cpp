// `lmforge generate RUN --prompt TEXT`: sample from a trained language model.
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
      "seed", po::value<std::uint64_t>()->default_value(1), "sampling seed")(
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
  std::cout << prompt << (prompt.empty() ? "" : " ")
            << generate_text(*stage.model, *stage.tokenizer, prompt, sampling, torch::kCPU) << "\n";
  return 0;
}

}  // namespace lmforge::cli
