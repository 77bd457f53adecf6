#pragma once
// How a task splits its batches between data-parallel ranks. A recipe's `batch_size` is the global
// batch, so the same recipe trains the same model whatever the number of processes: each rank
// takes one contiguous share of every batch, and weights its mean loss by its share, so that the
// gradients averaged over ranks equal those of the whole batch on one process.
#include <cstdint>
#include <string>
#include <vector>

#include "lmforge/error.h"

namespace lmforge {

struct ShardRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  std::int64_t size() const { return end - begin; }
};

/// Rank `rank`'s contiguous share of `count` items (sizes differ by at most one).
inline ShardRange shard_range(std::int64_t count, int rank, int world_size) {
  std::int64_t begin = count * rank / world_size;
  std::int64_t end = count * (rank + 1) / world_size;
  return {begin, end};
}

/// Factor for a rank's mean loss over `local` of a batch's `global` items: averaging the
/// weighted gradients over `world_size` ranks gives the gradient of the mean over all `global`.
inline double shard_loss_weight(std::int64_t local, std::int64_t global, int world_size) {
  return global > 0 ? static_cast<double>(local) * world_size / static_cast<double>(global) : 0.0;
}

/// This rank's share of one batch of example indices.
inline std::vector<std::int64_t> shard_indices(const std::vector<std::int64_t>& batch, int rank,
                                               int world_size) {
  ShardRange share = shard_range(static_cast<std::int64_t>(batch.size()), rank, world_size);
  return {batch.begin() + share.begin, batch.begin() + share.end};
}

/// For tasks whose training step updates one process's weights in place from many threads
/// (Hogwild: word2vec, GloVe): several processes would each train their own copy and drift apart
/// silently, so such a task refuses a data-parallel run at `place`.
inline void refuse_data_parallel(int world_size, const std::string& place,
                                 const std::string& task) {
  if (world_size <= 1) return;
  throw ConfigError(place, task +
                               " trains with lock-free (Hogwild) updates on one process's "
                               "threads and cannot be split across " +
                               std::to_string(world_size) +
                               " processes (each would train its own copy); run it without "
                               "--nproc and give it the cores with the recipe's threads: N");
}

}  // namespace lmforge
