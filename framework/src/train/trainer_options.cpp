#include "train/trainer_options.h"

#include <algorithm>

namespace lmforge {

std::int64_t total_updates(const TrainerOptions& options, std::int64_t batches_per_epoch) {
  const std::int64_t per_epoch = (batches_per_epoch + options.accumulate - 1) / options.accumulate;
  std::int64_t total = options.epochs * per_epoch;
  if (options.max_steps > 0) total = std::min(total, options.max_steps);
  return total;
}

}  // namespace lmforge
