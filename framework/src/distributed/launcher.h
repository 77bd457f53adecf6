#pragma once
// `lmforge run --nproc N`: the local launcher. It serves the rendezvous store, starts N copies of
// this executable as ranks 0..N-1 with torchrun's environment variables (so workers take the same
// path under either launcher), forwards Ctrl-C and SIGTERM to them, and stops the others when one
// fails, naming the rank.
#include <string>
#include <vector>

namespace lmforge {

struct LaunchOptions {
  int nproc = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;     ///< 0: any free port
  int grace_seconds = 20;  ///< how long ranks get to checkpoint after a stop, before SIGKILL
};

/// Runs `worker_args` (arguments after the executable, without --nproc) as `options.nproc`
/// workers and returns the exit code the run should end with: 0 when every rank succeeded, else
/// the first failing rank's code (128 + signal for a rank killed by a signal).
int launch_local_workers(const LaunchOptions& options, const std::vector<std::string>& worker_args);

}  // namespace lmforge
