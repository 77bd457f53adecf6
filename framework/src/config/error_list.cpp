#include "config/error_list.h"

#include <algorithm>
#include <regex>
#include <tuple>

namespace lmforge {
namespace {

// Recipe order: errors at "file:line:col" sorted by file, line and column; the others keep their
// order after them.
std::vector<std::string> in_recipe_order(std::vector<std::string> lines) {
  static const std::regex located(R"(^(.*?):(\d+):(\d+)[: ])");
  auto key = [](const std::string& line) {
    std::smatch m;
    if (!std::regex_search(line, m, located)) return std::make_tuple(1, std::string(), 0L, 0L);
    return std::make_tuple(0, m[1].str(), std::stol(m[2].str()), std::stol(m[3].str()));
  };
  std::stable_sort(lines.begin(), lines.end(),
                   [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  return lines;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text = std::to_string(lines.size()) + " errors:";
  for (const auto& line : lines) text += "\n  " + line;
  return text;
}

}  // namespace

ErrorList::ErrorList(std::vector<std::string> lines)
    : ConfigError("", joined(in_recipe_order(lines))), lines_(in_recipe_order(std::move(lines))) {}

void ErrorCollector::add(const Error& error) {
  if (const auto* list = dynamic_cast<const ErrorList*>(&error)) {
    for (const auto& line : list->lines()) {
      if (std::find(lines_.begin(), lines_.end(), line) == lines_.end()) lines_.push_back(line);
    }
    if (!first_) first_ = std::make_exception_ptr(*list);
    return;
  }
  // The same mistake reached twice (e.g. through two stages that share a component) is one.
  if (std::find(lines_.begin(), lines_.end(), error.what()) != lines_.end()) return;
  lines_.push_back(error.what());
  if (!first_) {
    if (const auto* data = dynamic_cast<const DataError*>(&error)) {
      first_ = std::make_exception_ptr(*data);
    } else if (const auto* config = dynamic_cast<const ConfigError*>(&error)) {
      first_ = std::make_exception_ptr(*config);
    } else {
      first_ = std::make_exception_ptr(error);
    }
  }
}

void ErrorCollector::throw_if_any() const {
  if (lines_.empty()) return;
  if (lines_.size() == 1) std::rethrow_exception(first_);
  throw ErrorList(lines_);
}

}  // namespace lmforge
