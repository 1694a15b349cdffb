#include "ops/analyze/sample_complexity.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace flowlab::ops::analyze {

Crossing settling_point(std::vector<ErrorAtSize> curve) {
  std::sort(curve.begin(), curve.end(), [](const auto& a, const auto& b) { return a.n < b.n; });
  Crossing c;
  if (curve.empty()) {
    c.n_star = std::numeric_limits<double>::infinity();
    c.above_grid = true;
    return c;
  }
  // The last grid point above the target; the curve settles right after it.
  size_t last_above = curve.size();
  for (size_t i = curve.size(); i-- > 0;)
    if (!(curve[i].error <= curve[i].target)) {  // NaN counts as not reached
      last_above = i;
      break;
    }
  if (last_above == curve.size()) {
    c.n_star = curve.front().n;
    c.below_grid = true;
    return c;
  }
  for (size_t i = 0; i < last_above; ++i) c.dipped |= curve[i].error <= curve[i].target;
  if (last_above + 1 == curve.size()) {
    c.n_star = std::numeric_limits<double>::infinity();
    c.above_grid = true;
    return c;
  }
  // Linear in log n between (n_a, gap_a > 0) and (n_b, gap_b <= 0), gap = error - target.
  const ErrorAtSize& a = curve[last_above];
  const ErrorAtSize& b = curve[last_above + 1];
  if (!std::isfinite(
          a.error)) {  // no value there (a failed run): settled by the next point at the latest
    c.n_star = b.n;
    return c;
  }
  const double g0 = a.error - a.target, g1 = b.error - b.target;
  const double t = g0 / (g0 - g1);
  c.n_star = std::exp(std::log(a.n) + t * (std::log(b.n) - std::log(a.n)));
  return c;
}

std::optional<double> loglog_slope(const std::vector<std::pair<double, double>>& points) {
  std::vector<std::pair<double, double>> logs;
  for (const auto& [x, y] : points)
    if (x > 0 && y > 0 && std::isfinite(x) && std::isfinite(y))
      logs.emplace_back(std::log(x), std::log(y));
  if (logs.size() < 2) return std::nullopt;
  double mean_x = 0, mean_y = 0;
  for (const auto& [x, y] : logs) mean_x += x, mean_y += y;
  mean_x /= logs.size(), mean_y /= logs.size();
  double sxx = 0, sxy = 0;
  for (const auto& [x, y] : logs)
    sxx += (x - mean_x) * (x - mean_x), sxy += (x - mean_x) * (y - mean_y);
  if (sxx <= 0) return std::nullopt;
  return sxy / sxx;
}

std::optional<double> quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = static_cast<size_t>(std::ceil(pos));
  if (std::isinf(values[hi])) return values[hi];
  const double t = pos - static_cast<double>(lo);
  return values[lo] + t * (values[hi] - values[lo]);
}

std::optional<double> median(std::vector<double> values) {
  return quantile(std::move(values), 0.5);
}

}  // namespace flowlab::ops::analyze
