#include "train/interrupt.h"

#include <csignal>

namespace lmforge {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;
// Which signal it was: a scheduler that sent SIGTERM expects exit code 143, a terminal 130.
volatile std::sig_atomic_t g_signal = 0;

void on_signal(int signal) {
  if (g_interrupted) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_signal = signal;
  g_interrupted = 1;
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_interrupted != 0; }

int interrupt_signal() { return g_signal; }

void clear_interrupt_request() {
  g_interrupted = 0;
  g_signal = 0;
}

}  // namespace lmforge
