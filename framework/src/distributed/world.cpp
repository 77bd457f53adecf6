#include "distributed/world.h"

#include <cstdlib>
#include <string>

#include "lmforge/error.h"

namespace lmforge {
namespace {

bool is_set(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0';
}

int read_int(const char* name, int fallback, int min_value) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  long parsed = std::strtol(value, &end, 10);
  if (*end != '\0' || parsed < min_value || parsed > 1 << 20) {
    throw ConfigError(
        std::string("environment ") + name,
        "expected an integer >= " + std::to_string(min_value) + ", got '" + value + "'");
  }
  return static_cast<int>(parsed);
}

}  // namespace

std::string WorldInfo::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size);
}

WorldInfo world_from_environment() {
  WorldInfo world;
  if (!is_set("WORLD_SIZE")) return world;
  world.world_size = read_int("WORLD_SIZE", 1, 1);
  world.rank = read_int("RANK", 0, 0);
  if (world.rank >= world.world_size) {
    throw ConfigError("environment RANK", "rank " + std::to_string(world.rank) +
                                              " is not below WORLD_SIZE " +
                                              std::to_string(world.world_size));
  }
  world.local_rank = read_int("LOCAL_RANK", world.rank, 0);
  world.local_world_size = read_int("LOCAL_WORLD_SIZE", world.world_size, 1);
  if (world.local_rank >= world.local_world_size) {
    throw ConfigError("environment LOCAL_RANK", "local rank " + std::to_string(world.local_rank) +
                                                    " is not below LOCAL_WORLD_SIZE " +
                                                    std::to_string(world.local_world_size));
  }
  if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr) world.master_addr = addr;
  world.master_port = read_int("MASTER_PORT", 29500, 1);
  if (world.master_port > 65535) {
    throw ConfigError("environment MASTER_PORT",
                      "port " + std::to_string(world.master_port) + " is above 65535");
  }
  if (const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE")) {
    std::string value = agent;
    world.agent_store = value == "True" || value == "true" || value == "1";
  }
  return world;
}

}  // namespace lmforge
