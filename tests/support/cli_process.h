#pragma once
// The real `lmforge` executable as a child process for end-to-end tests: output to files, a
// bounded wait, signals, extra environment; and readers for the metrics.jsonl it writes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace lmforge::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

/// A running program (by default `lmforge`) with stdout/stderr going to files.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& args, const std::string& log_prefix,
               const std::map<std::string, std::string>& extra_env = {},
               const std::string& program = LMFORGE_CLI)
      : out_(log_prefix + ".out"), err_(log_prefix + ".err") {
    std::vector<std::string> argv_strings{program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&files, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    // Default SIGINT/SIGTERM handling and no blocked signals, whatever the test runner did.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults, mask;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigemptyset(&mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::map<std::string, std::string> env_map;
    for (char** e = environ; *e; ++e) {
      std::string entry(*e);
      auto eq = entry.find('=');
      if (eq != std::string::npos) env_map[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    // With OMP_WAIT_POLICY already chosen the CLI does not re-execute itself: half the start-up.
    env_map.emplace("OMP_WAIT_POLICY", "passive");
    for (const auto& [key, value] : extra_env) env_map[key] = value;
    std::vector<std::string> env_strings;
    for (const auto& [key, value] : env_map) env_strings.push_back(key + "=" + value);
    std::vector<char*> env;
    for (auto& e : env_strings) env.push_back(e.data());
    env.push_back(nullptr);
    int rc = posix_spawnp(&pid_, program.c_str(), &files, &attr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    REQUIRE(rc == 0);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Exit code (128 + signal when killed); fails the test after `timeout`.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(240)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exited_) {
      if (poll()) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        FAIL("process did not finish in time; stderr: " << err());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return code_;
  }
  /// True once the process has exited.
  bool poll() {
    if (exited_) return true;
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return exited_;
  }
  void signal(int sig) {
    REQUIRE_FALSE(poll());
    REQUIRE(::kill(pid_, sig) == 0);
  }
  pid_t pid() const { return pid_; }
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int code_ = -1;
};

struct Finished {
  int code;
  std::string out;
  std::string err;
};

inline Finished run_to_end(const std::vector<std::string>& args, const std::string& log_prefix,
                           const std::map<std::string, std::string>& extra_env = {}) {
  ChildProcess child(args, log_prefix, extra_env);
  int code = child.wait();
  return Finished{code, child.out(), child.err()};
}

/// One metrics.jsonl record: key -> value as written (strings unquoted). Enough for the flat
/// objects the trainer writes.
using Record = std::map<std::string, std::string>;

inline Record parse_record(const std::string& line) {
  Record record;
  std::size_t i = 0;
  auto read_string = [&]() {
    std::string s;
    ++i;  // opening quote
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\' && i + 1 < line.size()) s += line[i++];
      s += line[i++];
    }
    ++i;  // closing quote
    return s;
  };
  while (i < line.size()) {
    while (i < line.size() && line[i] != '"') ++i;
    if (i >= line.size()) break;
    std::string key = read_string();
    while (i < line.size() && (line[i] == ':' || line[i] == ' ')) ++i;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      value = read_string();
    } else {
      while (i < line.size() && line[i] != ',' && line[i] != '}') value += line[i++];
    }
    record[key] = value;
  }
  return record;
}

inline std::vector<Record> read_metrics(const std::string& path) {
  std::vector<Record> records;
  for (const auto& line : lines_of(read_file(path))) records.push_back(parse_record(line));
  return records;
}

/// The records of `split` ("train", "valid", "test") in a metrics log, in order.
inline std::vector<Record> records_of(const std::vector<Record>& records,
                                      const std::string& split) {
  std::vector<Record> out;
  for (const auto& r : records) {
    auto s = r.find("split");
    if (s != r.end() && s->second == split) out.push_back(r);
  }
  return out;
}

inline double number(const Record& record, const std::string& key) {
  auto it = record.find(key);
  REQUIRE(it != record.end());
  return std::stod(it->second);
}

}  // namespace lmforge::test
