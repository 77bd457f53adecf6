// Data-parallel training on c10d (gloo, loopback only): two processes at the same global batch
// train the same model as one, through either launcher; a rank that dies ends the run with its
// name and a resumable checkpoint; bad launches are refused with one line.
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/version.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "distributed/gradient_reducer.h"
#include "distributed/world.h"
#include "lmforge/data_shard.h"
#include "lmforge/error.h"
#include "support/cli_process.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace lmforge::test;

namespace {

/// A recipe small enough for CI: an LSTM language model on generated sentences, then a
/// classifier on its body. No dropout, so one process and two draw no different masks.
std::string write_recipe(const TempDir& dir, int lm_steps = 24, int checkpoint_every = 0) {
  std::string path = dir.str("ddp.yaml");
  std::ofstream out(path);
  out << "name: ddp\nseed: 5\nthreads: 1\n"
         "generate_data: {type: toy_grammar, sentences: 1500, seed: 2, labelled_fraction: 0.1}\n"
         "stages:\n"
         "  - name: lm\n"
         "    task: {type: language_modeling, train: \"${run}/data/train.txt\",\n"
         "           valid: \"${run}/data/valid.txt\", bptt: 12}\n"
         "    tokenizer: {type: word, lowercase: true}\n"
         "    backbone: {type: lstm, embedding_dim: 16, hidden_size: 24, layers: 1, dropout: 0}\n"
         "    head: {type: lm, tie_weights: false}\n"
         "    train: {epochs: 1, max_steps: "
      << lm_steps << ", batch_size: 8, log_every: 4, checkpoint_every: " << checkpoint_every
      << ",\n"
         "            optimizer: {type: adamw, lr: 3e-3}, clip_grad_norm: 0.5}\n"
         "  - name: classify\n"
         "    init: {from: lm, parts: [tokenizer, backbone]}\n"
         "    task: {type: classification, format: tsv, train: "
         "\"${run}/data/labelled/train.tsv\",\n"
         "           valid: \"${run}/data/labelled/valid.tsv\"}\n"
         "    head: {type: classifier, pooling: mean, dropout: 0}\n"
         "    train: {epochs: 2, batch_size: 6, log_every: 2, optimizer: {type: adamw, lr: "
         "3e-3}}\n";
  return path;
}

std::vector<double> values(const std::vector<Record>& records, const std::string& key) {
  std::vector<double> out;
  for (const auto& r : records) {
    if (r.count(key)) out.push_back(std::stod(r.at(key)));
  }
  return out;
}

/// Train losses and validation metrics of both stages of the run in `run_dir`.
std::vector<double> trajectory(const std::string& run_dir) {
  std::vector<double> all;
  for (const char* stage : {"lm", "classify"}) {
    auto records = read_metrics((fs::path(run_dir) / stage / "metrics.jsonl").string());
    for (double v : values(records_of(records, "train"), "loss")) all.push_back(v);
    for (const char* metric : {"ppl", "accuracy"}) {
      for (double v : values(records_of(records, "valid"), metric)) all.push_back(v);
    }
  }
  return all;
}

void require_close(const std::vector<double>& a, const std::vector<double>& b, double rel) {
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() > 10);
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("value " << i << ": " << a[i] << " vs " << b[i]);
    REQUIRE(std::abs(a[i] - b[i]) <= rel * std::max(std::abs(a[i]), 1e-12));
  }
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A port something listens on, for as long as the object lives.
class BusyPort {
 public:
  BusyPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd_, 1) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = std::to_string(ntohs(addr.sin_port));
  }
  ~BusyPort() { ::close(fd_); }
  BusyPort(const BusyPort&) = delete;
  BusyPort& operator=(const BusyPort&) = delete;
  const std::string& port() const { return port_; }

 private:
  int fd_;
  std::string port_;
};

// A torchrun of the same PyTorch major version as the LibTorch under test: torchrun 2.x's agent
// store expects a handshake that a LibTorch 1.13 worker does not send (it is refused with
// "Connection reset by peer"). The .venv holds the 2.x wheel, so the 1.13 line looks on PATH only.
std::string torchrun_path() {
  std::string venv = std::string(LMFORGE_SOURCE_DIR) + "/.venv/bin/torchrun";
  if (TORCH_VERSION_MAJOR >= 2 && fs::exists(venv)) return venv;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      const fs::path candidate = fs::path(dir) / "torchrun";
      const bool the_venvs =
          fs::exists(venv) && fs::exists(candidate) && fs::equivalent(candidate, venv);
      if (fs::exists(candidate) && !(TORCH_VERSION_MAJOR < 2 && the_venvs))
        return candidate.string();
    }
  }
  return "";
}

}  // namespace

TEST_CASE("Gradient buckets: reverse order packing, a small first bucket, one dtype each",
          "[distributed]") {
  std::vector<torch::Tensor> params{torch::zeros({256}), torch::zeros({256}), torch::zeros({1024}),
                                    torch::zeros({64}, torch::kDouble),
                                    torch::zeros({64}, torch::kDouble)};
  lmforge::BucketLimits limits;
  limits.first_bytes = 2048;  // two 1 KiB tensors
  limits.bytes = 8192;
  auto buckets = lmforge::plan_buckets(params, limits);
  REQUIRE(buckets.size() == 3);
  CHECK(buckets[0] == std::vector<std::size_t>{0, 1});
  CHECK(buckets[1] == std::vector<std::size_t>{2});
  CHECK(buckets[2] == std::vector<std::size_t>{3, 4});  // a new dtype starts a new bucket
}

TEST_CASE("Shards of a batch cover it once and weight the loss by their share", "[distributed]") {
  std::vector<std::int64_t> batch{7, 3, 9, 1, 4};
  auto a = lmforge::shard_indices(batch, 0, 2);
  auto b = lmforge::shard_indices(batch, 1, 2);
  CHECK(a == std::vector<std::int64_t>{7, 3});
  CHECK(b == std::vector<std::int64_t>{9, 1, 4});
  // Averaging the weighted means over two ranks gives the mean over the whole batch.
  double w0 = lmforge::shard_loss_weight(2, 5, 2), w1 = lmforge::shard_loss_weight(3, 5, 2);
  CHECK((w0 * 1.0 + w1 * 2.0) / 2 == Approx((2 * 1.0 + 3 * 2.0) / 5));
  CHECK(lmforge::shard_loss_weight(5, 5, 1) == 1.0);
}

TEST_CASE("The world is read from torchrun's variables; bad ones are named", "[distributed]") {
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "1", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  auto world = lmforge::world_from_environment();
  CHECK(world.world_size == 2);
  CHECK(world.rank == 1);
  CHECK(world.master_port == 29511);
  ::setenv("RANK", "2", 1);
  CHECK_THROWS_WITH(lmforge::world_from_environment(),
                    Catch::Contains("RANK") && Catch::Contains("not below WORLD_SIZE 2"));
  ::setenv("RANK", "x", 1);
  CHECK_THROWS_WITH(lmforge::world_from_environment(), Catch::Contains("got 'x'"));
  for (const char* name : {"WORLD_SIZE", "RANK", "MASTER_PORT"}) ::unsetenv(name);
  CHECK_FALSE(lmforge::world_from_environment().distributed());
}

TEST_CASE("Two processes (--nproc 2) train the same LSTM LM and classifier as one",
          "[distributed]") {
  TempDir dir;
  std::string recipe = write_recipe(dir);
  std::string one = dir.str("one");
  std::string two = dir.str("two");
  auto single = run_to_end({"run", recipe, "--out", one}, one);
  INFO(single.err);
  REQUIRE(single.code == 0);
  auto parallel = run_to_end({"run", recipe, "--out", two, "--nproc", "2"}, two);
  INFO(parallel.err);
  REQUIRE(parallel.code == 0);
  CHECK_THAT(parallel.out, Catch::Contains("data-parallel run: 2 processes"));
  // Rank 0 alone writes: one metrics log, one set of checkpoints, no second copy of the lines.
  require_close(trajectory(one + "/ddp"), trajectory(two + "/ddp"), 1e-5);
}

TEST_CASE("torchrun --no-python starts the same run", "[distributed][torchrun]") {
  std::string torchrun = torchrun_path();
  if (torchrun.empty()) {
    WARN((TORCH_VERSION_MAJOR >= 2
              ? "torchrun not found (tools/setup.sh installs it into .venv); skipping"
              : "no torchrun of PyTorch 1.x on PATH for this LibTorch 1.13 build (the .venv's is "
                "2.x, whose agent store 1.13 workers cannot join); skipping"));
    return;
  }
  TempDir dir;
  std::string recipe = write_recipe(dir);
  std::string one = dir.str("one");
  std::string two = dir.str("torchrun");
  REQUIRE(run_to_end({"run", recipe, "--out", one}, one).code == 0);
  ChildProcess launch({"--no-python", "--nproc-per-node", "2", "--master-port",
                       std::to_string(free_port()), LMFORGE_CLI, "run", recipe, "--out", two},
                      two, {}, torchrun);
  int code = launch.wait();
  INFO(launch.err());
  REQUIRE(code == 0);
  require_close(trajectory(one + "/ddp"), trajectory(two + "/ddp"), 1e-5);
}

TEST_CASE("A killed rank stops the run, names the rank, and the run resumes", "[distributed]") {
  TempDir dir;
  std::string recipe = write_recipe(dir, 400, 5);
  std::string out = dir.str("runs");
  fs::create_directories(out);
  ChildProcess launch({"run", recipe, "--out", out, "--nproc", "2", "--dist-timeout", "30"},
                      out + "/launch");
  fs::path checkpoints = fs::path(out) / "ddp" / "lm" / "checkpoints";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(fs::exists(checkpoints) && !fs::is_empty(checkpoints))) {
    REQUIRE_FALSE(launch.poll());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // The launcher's children are the ranks; kill the last one started (rank 1).
  std::ifstream children("/proc/" + std::to_string(launch.pid()) + "/task/" +
                         std::to_string(launch.pid()) + "/children");
  std::vector<pid_t> pids;
  for (pid_t p; children >> p;) pids.push_back(p);
  REQUIRE(pids.size() == 2);
  REQUIRE(::kill(pids.back(), SIGKILL) == 0);
  auto killed_at = std::chrono::steady_clock::now();
  int code = launch.wait(std::chrono::seconds(90));
  CHECK(code != 0);
  CHECK(std::chrono::steady_clock::now() - killed_at < std::chrono::seconds(60));
  CHECK_THAT(launch.err(), Catch::Contains("rank 1 was killed by signal 9"));
  auto resumed =
      run_to_end({"run", recipe, "--out", out, "--nproc", "2", "--resume"}, out + "/resume");
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK_THAT(resumed.out, Catch::Contains("resuming from"));
  // Resume is exact at the same world size: the same log as a run never interrupted.
  std::string clean = dir.str("clean");
  REQUIRE(run_to_end({"run", recipe, "--out", clean, "--nproc", "2"}, clean).code == 0);
  require_close(trajectory(out + "/ddp"), trajectory(clean + "/ddp"), 1e-9);
}

TEST_CASE("Bad data-parallel launches are refused with one line", "[distributed]") {
  TempDir dir;
  std::string recipe = write_recipe(dir);
  std::string out = dir.str("runs");
  fs::create_directories(out);
  SECTION("a global batch that does not divide") {
    auto r =
        run_to_end({"run", recipe, "--out", out, "--nproc", "2", "stages.lm.train.batch_size=9"},
                   out + "/odd");
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("batch_size 9") && Catch::Contains("2 processes"));
  }
  SECTION("a port in use") {
    BusyPort busy;
    const std::string& port = busy.port();
    auto r = run_to_end({"run", recipe, "--out", out, "--nproc", "2", "--master-port", port},
                        out + "/port");
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains("--master-port") && Catch::Contains(port));
    CHECK(lines_of(r.err).size() == 1);
  }
  SECTION("rank 0's port in use, started by hand") {
    BusyPort busy;
    const std::map<std::string, std::string> env{{"RANK", "0"},
                                                 {"WORLD_SIZE", "2"},
                                                 {"MASTER_ADDR", "127.0.0.1"},
                                                 {"MASTER_PORT", busy.port()}};
    auto r = run_to_end({"run", recipe, "--out", out, "--dist-timeout", "3"}, out + "/busy", env);
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains("rank 0 of 2") && Catch::Contains(busy.port()) &&
                          Catch::Contains("in use"));
    CHECK(lines_of(r.err).size() == 1);
  }
  SECTION("ranks started with different recipes") {
    std::string port = std::to_string(free_port());
    auto env = [&](int rank) {
      return std::map<std::string, std::string>{{"RANK", std::to_string(rank)},
                                                {"WORLD_SIZE", "2"},
                                                {"MASTER_ADDR", "127.0.0.1"},
                                                {"MASTER_PORT", port}};
    };
    ChildProcess r0({"run", recipe, "--out", out, "--dist-timeout", "30"}, out + "/r0", env(0));
    ChildProcess r1(
        {"run", recipe, "--out", out, "--dist-timeout", "30", "stages.lm.train.max_steps=5"},
        out + "/r1", env(1));
    int c0 = r0.wait(std::chrono::seconds(90)), c1 = r1.wait(std::chrono::seconds(90));
    CHECK(c0 == 2);
    CHECK(c1 == 2);
    CHECK_THAT(r0.err() + r1.err(), Catch::Contains("differs between ranks"));
  }
  SECTION("an unreachable master") {
    std::map<std::string, std::string> env{{"RANK", "1"},
                                           {"WORLD_SIZE", "2"},
                                           {"MASTER_ADDR", "127.0.0.1"},
                                           {"MASTER_PORT", std::to_string(free_port())}};
    auto r = run_to_end({"run", recipe, "--out", out, "--dist-timeout", "3"}, out + "/lonely", env);
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains("rank 1 of 2") && Catch::Contains("master"));
  }
}
