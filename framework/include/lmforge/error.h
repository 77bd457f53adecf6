#pragma once
// Typed errors. Library code throws these with the place that is wrong (a recipe `file:line:col`,
// an option name, a path); only the CLI turns them into one line and an exit code.
#include <stdexcept>
#include <string>

#include "lmforge/export.h"

namespace lmforge {

/// Exit codes the CLI maps errors to.
enum class ExitCode : int {
  kOk = 0,
  kRuntime = 1,    ///< a failure while running (I/O, numerical, interrupted)
  kUsage = 2,      ///< bad input: recipe, option, command line, data file
  kPlugin = 3,     ///< a plugin that cannot be loaded
  kInterrupted = 130,
};

class LMFORGE_API Error : public std::runtime_error {
 public:
  Error(std::string place, std::string message, ExitCode code = ExitCode::kRuntime);
  const std::string& place() const noexcept { return place_; }
  const std::string& message() const noexcept { return message_; }
  ExitCode code() const noexcept { return code_; }

 private:
  std::string place_;
  std::string message_;
  ExitCode code_;
};

/// A recipe, option or command-line value that is wrong. Exit code 2.
class LMFORGE_API ConfigError : public Error {
 public:
  ConfigError(std::string place, std::string message);
};

/// A data file that is missing, empty or malformed. Exit code 2.
class LMFORGE_API DataError : public Error {
 public:
  DataError(std::string place, std::string message);
};

/// A plugin refused by the loader. Exit code 3.
class LMFORGE_API PluginError : public Error {
 public:
  PluginError(std::string place, std::string message);
};

}  // namespace lmforge
