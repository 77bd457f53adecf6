#pragma once
// Every mistake of a recipe at once: readers and validation collect the located errors they find
// and throw them together, so a user fixes a recipe in one round instead of one error per run.
#include <exception>
#include <string>
#include <vector>

#include "lmforge/error.h"

namespace lmforge {

/// Several located errors; each line is "place: message". Exit code 2, like any ConfigError.
class ErrorList : public ConfigError {
 public:
  explicit ErrorList(std::vector<std::string> lines);
  const std::vector<std::string>& lines() const noexcept { return lines_; }

 private:
  std::vector<std::string> lines_;
};

/// Collects errors instead of stopping at the first.
class ErrorCollector {
 public:
  /// Runs `step`; a ConfigError or DataError it throws (every line of an ErrorList) is kept and
  /// the run goes on. Returns whether `step` finished without one.
  template <class Step>
  bool attempt(Step&& step) {
    try {
      step();
      return true;
    } catch (const ErrorList& e) {
      add(e);
    } catch (const ConfigError& e) {
      add(e);
    } catch (const DataError& e) {
      add(e);
    }
    return false;
  }
  void add(const Error& error);
  bool empty() const { return lines_.empty(); }
  std::size_t size() const { return lines_.size(); }
  /// Nothing when empty; the error itself when there is one (its type kept); else an ErrorList.
  void throw_if_any() const;

 private:
  std::vector<std::string> lines_;
  std::exception_ptr first_;
};

}  // namespace lmforge
