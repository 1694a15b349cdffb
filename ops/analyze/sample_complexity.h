#pragma once
// The mathematics of `analyze.sample_complexity`, separate from the op so it can be tested alone.
#include <optional>
#include <utility>
#include <vector>

namespace flowlab::ops::analyze {

struct ErrorAtSize {
  double n = 0;       // training-set size
  double error = 0;   // test error of the model trained on n samples
  double target = 0;  // the error to reach (Bayes error + epsilon)
};

struct Crossing {
  double n_star = 0;         // smallest n at which the error reaches the target (interpolated)
  bool below_grid = false;   // already at target at the smallest n: n_star is that n (an upper bound)
  bool above_grid = false;   // never reached on the grid: n_star is +infinity
};

/// The first n at which the error curve reaches the target. Between the last grid point above
/// the target and the first one at or below it, the error is interpolated linearly in log n.
Crossing first_crossing(std::vector<ErrorAtSize> curve);

/// Least-squares slope of log y against log x over the finite, positive points (nullopt when
/// fewer than two distinct x remain).
std::optional<double> loglog_slope(const std::vector<std::pair<double, double>>& points);

/// Median with +infinity allowed (it sorts last); nullopt for no values.
std::optional<double> median(std::vector<double> values);

}  // namespace flowlab::ops::analyze
