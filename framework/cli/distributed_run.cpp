#include "distributed_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "distributed/communicator.h"
#include "distributed/launcher.h"
#include "distributed/world.h"
#include "lmforge/error.h"

namespace lmforge::cli {
namespace {

/// The worker's arguments: the launcher's own, less what only the launcher reads.
Args worker_arguments(const Args& args) {
  Args out{"run"};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool launcher_only = a == "--nproc" || a == "--master-addr" || a == "--master-port";
    if (launcher_only) {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0 || a.rfind("--master-addr=", 0) == 0 ||
        a.rfind("--master-port=", 0) == 0) {
      continue;
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace

void add_distributed_options(po::options_description& options) {
  options.add_options()("nproc", po::value<int>()->default_value(1),
                        "data-parallel worker processes on this machine (each gets "
                        "batch_size / N of every batch and cores / N threads)")(
      "master-addr", po::value<std::string>()->default_value("127.0.0.1"),
      "address the launcher serves the rendezvous store on (with --nproc)")(
      "master-port", po::value<int>()->default_value(0),
      "port of the rendezvous store (with --nproc; 0 = any free port)")(
      "dist-timeout", po::value<int>()->default_value(120),
      "seconds a worker waits for the others (rendezvous, collectives) before giving up");
}

std::optional<int> launch_workers_if_requested(const Parsed& parsed, const Args& args) {
  int nproc = parsed.values["nproc"].as<int>();
  if (nproc < 1) throw ConfigError("--nproc", "expected at least 1, got " + std::to_string(nproc));
  if (nproc == 1) return std::nullopt;
  if (world_from_environment().distributed()) {
    throw ConfigError("--nproc", "this process is already a worker of a " +
                                     std::string(std::getenv("WORLD_SIZE")) +
                                     "-process run (WORLD_SIZE is set); use one launcher");
  }
  int port = parsed.values["master-port"].as<int>();
  if (port < 0 || port > 65535) {
    throw ConfigError("--master-port", "expected 0..65535, got " + std::to_string(port));
  }
  LaunchOptions options;
  options.nproc = nproc;
  options.master_addr = parsed.values["master-addr"].as<std::string>();
  options.master_port = port;
  return launch_local_workers(options, worker_arguments(args));
}

void join_world_if_worker(const Parsed& parsed, const std::string& recipe_fingerprint) {
  WorldInfo world = world_from_environment();
  if (!world.distributed()) return;
  int timeout_s = parsed.values["dist-timeout"].as<int>();
  if (timeout_s < 1) throw ConfigError("--dist-timeout", "expected at least 1 second");
  auto communicator = Communicator::connect(world, std::chrono::seconds(timeout_s));
  communicator->require_same("the resolved recipe (digest)", recipe_fingerprint);
  set_current_communicator(std::move(communicator));
  if (world.rank != 0 && std::getenv("LMFORGE_LOG_ALL_RANKS") == nullptr) {
    // One rank logs; errors still reach stderr with the rank named.
    std::cout.flush();
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDOUT_FILENO);
      ::close(devnull);
    }
  }
  if (world.rank == 0) {
    std::cout << "data-parallel run: " << world.world_size << " processes ("
              << world.local_world_size << " on this machine), gloo on CPU\n";
  }
}

std::string fingerprint(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

}  // namespace lmforge::cli
