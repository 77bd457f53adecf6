#pragma once
// Ctrl-C / SIGTERM: the first signal asks the trainer to checkpoint and stop after the current
// step; a second one kills the process the usual way.
namespace lmforge {
void install_interrupt_handlers();
bool interrupt_requested();
/// Forgets a request that was handled (tests; a host that runs several recipes).
void clear_interrupt_request();
}  // namespace lmforge
