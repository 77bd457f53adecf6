#pragma once
// Where this process stands among the workers of one training run. Read from the environment
// torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE), which `lmforge run --nproc N` sets for its workers too, so both
// launchers reach one code path.
#include <string>

namespace lmforge {

struct WorldInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  /// A launcher (torchrun's agent or `lmforge run --nproc`) already serves the rendezvous store at
  /// MASTER_ADDR:MASTER_PORT; otherwise rank 0 serves it.
  bool agent_store = false;

  bool distributed() const { return world_size > 1; }
  /// "rank 1 of 2", for messages.
  std::string describe() const;
};

/// The world this process belongs to; a single process (rank 0 of 1) when WORLD_SIZE is unset.
/// Throws ConfigError naming the variable when one is malformed or inconsistent.
WorldInfo world_from_environment();

}  // namespace lmforge
