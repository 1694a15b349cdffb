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
  double n_star = 0;  // the n from which on the error stays at or below the target
  bool below_grid =
      false;  // at target over the whole grid: n_star is the smallest n (an upper bound)
  bool above_grid = false;  // above target at the largest n: n_star is +infinity
  bool dipped = false;      // the curve touched the target earlier and went back above it
};

/// Sample complexity from one error curve: the smallest n from which on (for every larger grid
/// point) the error is at or below the target. Between the last grid point above the target and
/// the next one the gap error - target is interpolated linearly in log n. Asking that the error
/// *stays* below, not that it touches the target once, keeps one lucky small-n run (an
/// initialization that happens to point at the signal) from deciding n*. A point with no value
/// (error +inf or NaN: its run failed) counts as above the target; when it is the last one above,
/// n* is the next grid point (no interpolation from an unknown value).
Crossing settling_point(std::vector<ErrorAtSize> curve);

/// Least-squares slope of log y against log x over the finite, positive points (nullopt when
/// fewer than two distinct x remain).
std::optional<double> loglog_slope(const std::vector<std::pair<double, double>>& points);

/// The q-quantile (0 <= q <= 1) with linear interpolation between order statistics (numpy's
/// default); +infinity is allowed and sorts last, and a quantile that touches it is +infinity.
/// nullopt for no values.
std::optional<double> quantile(std::vector<double> values, double q);

/// quantile(values, 0.5).
std::optional<double> median(std::vector<double> values);

}  // namespace flowlab::ops::analyze
