// Cohen's kappa, the bundled metric plugin, and how a labelled task reports a listed metric.
#include "metrics/cohen_kappa/cohen_kappa.h"

#include <catch2/catch.hpp>

TEST_CASE("cohen_kappa equals the hand computation", "[metric]") {
  lmforge::CohenKappa kappa({}, {});
  // p_o = 35/50 = 0.7; p_e = (25*30 + 25*20) / 50^2 = 0.5; kappa = (0.7 - 0.5) / 0.5 = 0.4.
  CHECK(kappa.compute({{20, 5}, {10, 15}}, {"a", "b"}) == Approx(0.4));
  // Always the majority label: 80% accuracy, no agreement beyond chance.
  CHECK(kappa.compute({{40, 0}, {10, 0}}, {"a", "b"}) == Approx(0.0));
  CHECK(kappa.compute({{7, 0, 0}, {0, 3, 0}, {0, 0, 5}}, {"a", "b", "c"}) == Approx(1.0));
  // Worse than chance is negative.
  CHECK(kappa.compute({{0, 10}, {10, 0}}, {"a", "b"}) == Approx(-1.0));
  CHECK(kappa.compute({{0, 0}, {0, 0}}, {"a", "b"}) == 0.0);
}
