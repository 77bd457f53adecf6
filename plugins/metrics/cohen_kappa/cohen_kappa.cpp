#include "cohen_kappa.h"

#include <cstdint>

namespace lmforge {

double CohenKappa::compute(const Confusion& confusion, const std::vector<std::string>&) const {
  const std::size_t classes = confusion.size();
  double total = 0, agree = 0;
  std::vector<double> truth(classes, 0), predicted(classes, 0);
  for (std::size_t t = 0; t < classes; ++t) {
    for (std::size_t p = 0; p < classes; ++p) {
      const auto n = static_cast<double>(confusion[t][p]);
      total += n;
      truth[t] += n;
      predicted[p] += n;
      if (t == p) agree += n;
    }
  }
  if (total == 0) return 0.0;
  double chance = 0;
  for (std::size_t c = 0; c < classes; ++c) chance += truth[c] * predicted[c] / (total * total);
  const double observed = agree / total;
  // All examples of one label, all predicted as it: agreement is perfect and chance is 1.
  if (chance >= 1.0) return observed >= 1.0 ? 1.0 : 0.0;
  return (observed - chance) / (1.0 - chance);
}

}  // namespace lmforge
