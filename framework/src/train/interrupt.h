#pragma once
// Ctrl-C / SIGTERM: the first signal asks the trainer to checkpoint and stop after the current
// step; a second one kills the process the usual way.
namespace lmforge {
void install_interrupt_handlers();
bool interrupt_requested();
}  // namespace lmforge
