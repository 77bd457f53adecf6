#include "cli.h"

#include <c10/util/Exception.h>

#include <csignal>
#include <iostream>

#include "builtins.h"
#include "config/error_list.h"
#include "config/suggest.h"
#include "lmforge/error.h"
#include "lmforge/torch_version.h"
#include "lmforge/version.h"
#include "train/interrupt.h"

namespace lmforge::cli {
namespace {

constexpr const char* kUsage =
    "usage: lmforge COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run RECIPE [key=value ...]   train the recipe's stages (--resume continues a run)\n"
    "  validate RECIPE              check a recipe without training\n"
    "  plugins [--describe NAME]    list registered components or document one\n"
    "  generate RUN --prompt TEXT   sample text from a trained language model\n"
    "  embed RUN SUBCOMMAND ...     explore, evaluate or export the word embedding\n"
    "  predict RUN --text TEXT      label texts with a trained classifier\n"
    "  translate RUN --text TEXT    translate with a trained sequence-to-sequence model\n"
    "  tokenize RUN --text TEXT     show what a text becomes under a run's tokenizer\n"
    "  report RUN [--out FILE]      write a run's curves, matrices and samples as one HTML page\n"
    "  export RUN --output FILE     write a stage's weights as safetensors with config.json\n"
    "  import FORMAT SRC --output RUN  read another framework's model (hf-gpt2) as a run\n"
    "  merge RUN                    fold a stage's LoRA adapters into its backbone\n"
    "  new plugin NAME --kind KIND  write a plugin project: backbone, head or task\n"
    "  --version                    print versions\n"
    "\n"
    "`lmforge COMMAND --help` describes a command's options.\n";

int dispatch(const std::string& command, const Args& args) {
  if (command == "run") return run_command(args);
  if (command == "validate") return validate_command(args);
  if (command == "plugins") return plugins_command(args);
  if (command == "generate") return generate_command(args);
  if (command == "predict") return predict_command(args);
  if (command == "embed") return embed_command(args);
  if (command == "new") return new_command(args);
  if (command == "tokenize") return tokenize_command(args);
  if (command == "translate") return translate_command(args);
  if (command == "report") return report_command(args);
  if (command == "export") return export_command(args);
  if (command == "import") return import_command(args);
  if (command == "merge") return merge_command(args);
  std::vector<std::string> known{"run",   "validate", "plugins",  "generate", "predict",
                                 "embed", "new",      "tokenize", "translate", "report",
                                 "export", "import",  "merge"};
  throw ConfigError("lmforge", "unknown command '" + command + "'" + did_you_mean(command, known) +
                                   "; commands: " + join_names(known));
}

}  // namespace

int main(int argc, char** argv) {
  Args args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "lmforge " << kSdkVersion << " (plugin ABI " << kAbiVersion << ", LibTorch "
              << TORCH_VERSION << ")\n";
    return 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  try {
    install_interrupt_handlers();
    register_builtins();
    return dispatch(command, args);
  } catch (const ErrorList& e) {
    // One line per mistake, each with its place, so every one can be fixed in one round.
    for (const auto& line : e.lines()) std::cerr << "lmforge: error: " << line << "\n";
    std::cerr << "lmforge: " << e.lines().size() << " errors\n";
    return static_cast<int>(e.code());
  } catch (const Error& e) {
    std::cerr << "lmforge: error: " << e.what() << "\n";
    // A scheduler's SIGTERM ends like a shell's kill would: 128 + 15, after the checkpoint.
    if (e.code() == ExitCode::kInterrupted && interrupt_signal() == SIGTERM) return 128 + SIGTERM;
    return static_cast<int>(e.code());
  } catch (const c10::Error& e) {
    // LibTorch's messages carry a C++ backtrace; the first line is the useful part.
    std::string message = e.what_without_backtrace();
    std::cerr << "lmforge: error: " << message.substr(0, message.find('\n')) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "lmforge: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace lmforge::cli
