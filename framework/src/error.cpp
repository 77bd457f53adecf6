#include "lmforge/error.h"

namespace lmforge {

Error::Error(std::string place, std::string message, ExitCode code)
    : std::runtime_error(place.empty() ? message : place + ": " + message),
      place_(std::move(place)),
      message_(std::move(message)),
      code_(code) {}

ConfigError::ConfigError(std::string place, std::string message)
    : Error(std::move(place), std::move(message), ExitCode::kUsage) {}

DataError::DataError(std::string place, std::string message)
    : Error(std::move(place), std::move(message), ExitCode::kUsage) {}

PluginError::PluginError(std::string place, std::string message)
    : Error(std::move(place), std::move(message), ExitCode::kPlugin) {}

}  // namespace lmforge
