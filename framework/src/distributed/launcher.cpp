#include "distributed/launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "distributed/port.h"
#include "lmforge/error.h"

namespace lmforge {
namespace {

volatile sig_atomic_t g_forward_signal = 0;

void remember_signal(int signal) { g_forward_signal = signal; }

std::string self_executable() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) throw Error("lmforge run --nproc", "cannot find this executable (/proc/self/exe)");
  path[n] = '\0';
  return path;
}

pid_t start_worker(const std::string& exe, const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv_storage{exe};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  pid_t pid = ::fork();
  if (pid < 0)
    throw Error("lmforge run --nproc", std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    for (const auto& [key, value] : env) ::setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    std::cerr << "lmforge run --nproc: cannot start " << exe << ": " << std::strerror(errno)
              << "\n";
    ::_exit(127);
  }
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           ::strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with code " + std::to_string(exit_code_of(status));
}

void signal_all(const std::map<pid_t, int>& running, int signal) {
  for (const auto& [pid, rank] : running) ::kill(pid, signal);
}

}  // namespace

int launch_local_workers(const LaunchOptions& options,
                         const std::vector<std::string>& worker_args) {
  if (options.nproc < 1) throw ConfigError("--nproc", "expected at least 1 process");
  // The store lives in the launcher, so a worker that dies does not take the rendezvous with it
  // and the port is known (and checked) before any worker starts.
  if (options.master_port != 0 && port_in_use(options.master_port)) {
    throw Error("--master-port",
                "cannot serve the rendezvous store on " + options.master_addr + ":" +
                    std::to_string(options.master_port) +
                    " (the port is in use; choose another, or 0 for any free one)");
  }
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(options.master_port);
  store_options.isServer = true;
  store_options.waitWorkers = false;
  store_options.numWorkers = options.nproc;
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, store_options);
  } catch (const std::exception& e) {
    std::string detail = e.what();
    if (auto newline = detail.find('\n'); newline != std::string::npos) detail.resize(newline);
    throw Error("--master-port", "cannot serve the rendezvous store on " + options.master_addr +
                                     ":" + std::to_string(options.master_port) + " (" + detail +
                                     ")");
  }
  const int port = store->getPort();

  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);

  const std::string exe = self_executable();
  std::map<pid_t, int> running;
  for (int rank = 0; rank < options.nproc; ++rank) {
    std::map<std::string, std::string> env{
        {"RANK", std::to_string(rank)},
        {"WORLD_SIZE", std::to_string(options.nproc)},
        {"LOCAL_RANK", std::to_string(rank)},
        {"LOCAL_WORLD_SIZE", std::to_string(options.nproc)},
        {"MASTER_ADDR", options.master_addr},
        {"MASTER_PORT", std::to_string(port)},
        {"TORCHELASTIC_USE_AGENT_STORE", "True"},
    };
    running[start_worker(exe, worker_args, env)] = rank;
  }

  int result = 0;
  bool stopping = false;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (!running.empty()) {
    if (g_forward_signal && !stopping) {
      // Ctrl-C or SIGTERM: every rank checkpoints and exits on its own; the launcher waits.
      signal_all(running, g_forward_signal);
      stopping = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.grace_seconds);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "lmforge run: ranks still running " << options.grace_seconds
                << " s after the stop; killing them\n";
      signal_all(running, SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    int rank = it->second;
    running.erase(it);
    int code = exit_code_of(status);
    if (code != 0 && result == 0) {
      result = code;
      if (!stopping) {
        std::cerr << "lmforge run: rank " << rank << " " << describe_status(status)
                  << "; stopping the other " << running.size() << " rank"
                  << (running.size() == 1 ? "" : "s") << "\n";
        signal_all(running, SIGTERM);
        stopping = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.grace_seconds);
      }
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (g_forward_signal && result == 0) result = 128 + g_forward_signal;
  return result;
}

}  // namespace lmforge
