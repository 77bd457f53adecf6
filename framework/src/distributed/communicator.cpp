#include "distributed/communicator.h"

#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "distributed/port.h"
#include "lmforge/error.h"

namespace lmforge {
namespace {

/// c10d reports a peer that died or never came as c10::Error deep inside gloo; say which rank saw
/// it and what it was doing, once.
template <class F>
auto guarded(const WorldInfo& world, const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string detail = e.what();
    if (auto newline = detail.find('\n'); newline != std::string::npos) detail.resize(newline);
    throw Error(world.describe(),
                what + " failed: another rank stopped or cannot be reached (" + detail + ")");
  }
}

class GlooReduce : public PendingReduce {
 public:
  GlooReduce(const WorldInfo& world, c10::intrusive_ptr<c10d::Work> work)
      : world_(world), work_(std::move(work)) {}
  void wait() override {
    guarded(world_, "all-reduce", [&] { return work_->wait(); });
  }

 private:
  const WorldInfo& world_;
  c10::intrusive_ptr<c10d::Work> work_;
};

class GlooCommunicator : public Communicator {
 public:
  GlooCommunicator(WorldInfo world, std::chrono::milliseconds timeout)
      : world_(std::move(world)), timeout_(timeout) {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(world_.master_port);
    options.isServer = world_.rank == 0 && !world_.agent_store;
    options.numWorkers = world_.world_size;
    options.waitWorkers = false;
    options.timeout = timeout;
    std::string where = world_.master_addr + ":" + std::to_string(world_.master_port);
    if (options.isServer && world_.master_port != 0 && port_in_use(world_.master_port)) {
      throw Error(world_.describe(), "cannot serve the rendezvous store on " + where +
                                         " (the port is in use; choose another MASTER_PORT)");
    }
    try {
      store_ = c10::make_intrusive<c10d::TCPStore>(world_.master_addr, options);
    } catch (const std::exception& e) {
      std::string detail = e.what();
      if (auto newline = detail.find('\n'); newline != std::string::npos) detail.resize(newline);
      throw Error(world_.describe(), (options.isServer ? "cannot serve the rendezvous store on "
                                                       : "cannot reach the master at ") +
                                         where + " (" + detail + ")");
    }
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    gloo_options->devices.push_back(guarded(world_, "creating the gloo device", [&] {
      return c10d::ProcessGroupGloo::createDeviceForHostname(local_address());
    }));
    // A prefix keeps this run's keys apart from a launcher's own (torchrun's agent store).
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("lmforge", store_);
    group_ = guarded(world_, "joining the process group", [&] {
      return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, world_.rank, world_.world_size,
                                                         gloo_options);
    });
  }

  const WorldInfo& world() const override { return world_; }

  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      guarded(world_, "broadcast", [&] { return group_->broadcast(one, options)->wait(); });
    }
  }

  std::unique_ptr<PendingReduce> all_reduce_sum_async(std::vector<torch::Tensor> tensors) override {
    std::vector<at::Tensor> list(tensors.begin(), tensors.end());
    auto work = guarded(world_, "all-reduce", [&] { return group_->allreduce(list); });
    return std::make_unique<GlooReduce>(world_, std::move(work));
  }

  void barrier() override {
    guarded(world_, "barrier", [&] { return group_->barrier()->wait(); });
  }

  std::vector<std::string> gather_to_rank0(const std::string& mine) override {
    std::string key = "gather/" + std::to_string(generation_++);
    return guarded(world_, "gathering state", [&] {
      store_->set(key + "/" + std::to_string(world_.rank),
                  std::vector<std::uint8_t>(mine.begin(), mine.end()));
      std::vector<std::string> all;
      if (world_.rank == 0) {
        for (int r = 0; r < world_.world_size; ++r) {
          std::vector<std::uint8_t> bytes = store_->get(key + "/" + std::to_string(r));
          all.emplace_back(bytes.begin(), bytes.end());
        }
        for (int r = 1; r < world_.world_size; ++r)
          store_->deleteKey(key + "/" + std::to_string(r));
      }
      return all;
    });
  }

  void require_same(const std::string& what, const std::string& value) override {
    std::string key = "same/" + what + "/" + std::to_string(generation_++);
    std::string mismatch = guarded(world_, "comparing " + what, [&] {
      store_->set(key + "/" + std::to_string(world_.rank),
                  std::vector<std::uint8_t>(value.begin(), value.end()));
      std::string found;
      for (int r = 0; r < world_.world_size && found.empty(); ++r) {
        std::vector<std::uint8_t> bytes = store_->get(key + "/" + std::to_string(r));
        std::string theirs(bytes.begin(), bytes.end());
        if (theirs != value) {
          found = what + " differs between ranks: rank " + std::to_string(world_.rank) + " has " +
                  value + ", rank " + std::to_string(r) + " has " + theirs +
                  "; start every rank with the same one";
        }
      }
      // Nobody leaves before everyone has read: the store may live in a rank that is about to
      // exit with the same refusal.
      store_->add(key + "/read", 1);
      auto deadline = std::chrono::steady_clock::now() + timeout_;
      while (store_->add(key + "/read", 0) < world_.world_size) {
        if (std::chrono::steady_clock::now() > deadline) {
          throw std::runtime_error("timed out waiting for the other ranks");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      return found;
    });
    if (!mismatch.empty()) throw ConfigError(world_.describe(), mismatch);
  }

 private:
  /// Gloo binds to the address the peers see; on one machine that is the loopback, else the
  /// address this host resolves to (as torch.distributed's default device does).
  std::string local_address() const {
    const std::string& addr = world_.master_addr;
    if (addr.rfind("127.", 0) == 0 || addr == "::1" || addr == "localhost") return "127.0.0.1";
    char name[256] = {0};
    if (gethostname(name, sizeof(name) - 1) == 0) return name;
    return "127.0.0.1";
  }

  WorldInfo world_;
  std::chrono::milliseconds timeout_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  std::uint64_t generation_ = 0;
};

std::unique_ptr<Communicator>& current_slot() {
  static std::unique_ptr<Communicator> current;
  return current;
}

}  // namespace

std::unique_ptr<Communicator> Communicator::connect(const WorldInfo& world,
                                                    std::chrono::milliseconds timeout) {
  return std::make_unique<GlooCommunicator>(world, timeout);
}

Communicator* current_communicator() { return current_slot().get(); }

void set_current_communicator(std::unique_ptr<Communicator> communicator) {
  current_slot() = std::move(communicator);
}

}  // namespace lmforge
