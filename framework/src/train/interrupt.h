#pragma once
// Ctrl-C / SIGTERM: the first signal asks the trainer to checkpoint and stop after the current
// step; a second one kills the process the usual way.
namespace lmforge {
void install_interrupt_handlers();
bool interrupt_requested();
/// The signal that asked to stop (SIGINT or SIGTERM), 0 when none did.
int interrupt_signal();
/// Forgets a request that was handled (tests; a host that runs several recipes).
void clear_interrupt_request();
}  // namespace lmforge
