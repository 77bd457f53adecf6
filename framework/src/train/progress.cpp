#include "train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace lmforge {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<std::int64_t>(seconds + 0.5);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h" << (s % 3600) / 60 << "m";
  else if (s >= 60) out << s / 60 << "m" << s % 60 << "s";
  else out << s << "s";
  return out.str();
}

Progress::Progress(std::string stage, std::int64_t total_steps, std::int64_t log_every)
    : stage_(std::move(stage)),
      total_(std::max<std::int64_t>(1, total_steps)),
      log_every_(log_every),
      tty_(::isatty(STDOUT_FILENO) != 0) {}

void Progress::update(std::int64_t global_step, std::int64_t epoch, double loss, double lr,
                      double tokens_per_second) {
  auto now = std::chrono::steady_clock::now();
  if (first_step_ < 0) first_step_ = global_step - 1;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double per_step = elapsed / static_cast<double>(std::max<std::int64_t>(1, global_step - first_step_));
  double eta = per_step * static_cast<double>(total_ - global_step);
  char text[256];
  std::snprintf(text, sizeof text, "%s epoch %lld step %lld/%lld loss %.4f lr %.2e %.0f tok/s ETA %s",
                stage_.c_str(), static_cast<long long>(epoch + 1),
                static_cast<long long>(global_step), static_cast<long long>(total_), loss, lr,
                tokens_per_second, format_duration(eta).c_str());
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && global_step != total_) return;
    last_draw_ = now;
    int width = 24;
    int filled = static_cast<int>(width * static_cast<double>(global_step) / total_);
    std::string bar = "[" + std::string(filled, '=') + std::string(width - filled, ' ') + "]";
    std::cout << "\r\033[K" << bar << " " << text << std::flush;
    bar_open_ = true;
  } else if (global_step % log_every_ == 0 || global_step == total_) {
    std::cout << text << "\n" << std::flush;
  }
}

void Progress::line(const std::string& text) {
  if (bar_open_) {
    std::cout << "\r\033[K";
    bar_open_ = false;
  }
  std::cout << text << "\n" << std::flush;
}

}  // namespace lmforge
