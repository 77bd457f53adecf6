#pragma once
// GloVe's fused AdaGrad update over a run of co-occurrence records, on the backbone's float
// tables in place. Several threads call it on the same tables at once (Hogwild): records touch
// two rows each, so collisions are rare and harmless, as in the reference implementation.
#include <cstddef>
#include <cstdint>

#include "cooccurrence.h"
#include "glove_model.h"

namespace lmforge::glove {

struct AdaGradSettings {
  std::int64_t dim = 100;
  float eta = 0.05f;         ///< initial learning rate of the vectors
  float x_max = 100.0f;      ///< weighting function cutoff
  float alpha = 0.75f;       ///< weighting function exponent
  float grad_clip = 100.0f;  ///< each gradient component is clipped to +-grad_clip
};

struct AdaGradTally {
  double cost = 0;           ///< sum of 1/2 f(x) diff^2 before each update
  std::int64_t updates = 0;  ///< records applied
  std::int64_t skipped = 0;  ///< records whose prediction was not finite
};

/// One update per record: the vectors move by eta * clip(gradient) / sqrt(their squared-gradient
/// sum), the biases by the unscaled gradient / sqrt(sum), as the reference implementation does.
/// Picks an AVX2 build of the loop when the CPU has one.
AdaGradTally adagrad_update(const GloveBackbone::Tables& tables, const Cooccurrence* records,
                            std::size_t count, const AdaGradSettings& settings);

}  // namespace lmforge::glove
