#pragma once
// The data-parallel side of `lmforge run`: --nproc starts local workers; a process started as a
// worker (by --nproc or by torchrun) joins the run's process group before the recipe runs.
#include <optional>
#include <string>

#include "cli.h"
#include "cli_options.h"

namespace lmforge::cli {

/// --nproc, --master-addr, --master-port, --dist-timeout.
void add_distributed_options(po::options_description& options);

/// When --nproc N > 1 asks for workers and this process is not one of them, runs them and
/// returns the run's exit code; otherwise nothing.
std::optional<int> launch_workers_if_requested(const Parsed& parsed, const Args& args);

/// In a worker (WORLD_SIZE set by a launcher): joins the process group, checks that every rank
/// runs the same resolved recipe (`fingerprint`), and quiets stdout on ranks other than 0 so one
/// rank logs. A single process is left as it is.
void join_world_if_worker(const Parsed& parsed, const std::string& fingerprint);

/// A short, stable digest of a text (FNV-1a, hex), for comparing recipes across ranks.
std::string fingerprint(const std::string& text);

}  // namespace lmforge::cli
