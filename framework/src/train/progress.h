#pragma once
// Progress display: a redrawn bar with loss, tokens/s and ETA on a terminal; plain lines every
// `log_every` steps when stdout is a file or pipe (CI logs stay readable).
#include <chrono>
#include <cstdint>
#include <string>

namespace lmforge {

class Progress {
 public:
  Progress(std::string stage, std::int64_t total_steps, std::int64_t log_every);
  /// Called after each training step.
  void update(std::int64_t global_step, std::int64_t epoch, double loss, double lr,
              double tokens_per_second);
  /// Prints a full line (finishing any bar in progress).
  void line(const std::string& text);

 private:
  std::string stage_;
  std::int64_t total_;
  std::int64_t log_every_;
  bool tty_;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  std::int64_t first_step_ = -1;
};

std::string format_duration(double seconds);

}  // namespace lmforge
