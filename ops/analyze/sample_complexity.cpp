#include "ops/analyze/sample_complexity.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace flowlab::ops::analyze {

Crossing first_crossing(std::vector<ErrorAtSize> curve) {
  std::sort(curve.begin(), curve.end(), [](const auto& a, const auto& b) { return a.n < b.n; });
  Crossing c;
  for (size_t i = 0; i < curve.size(); ++i) {
    if (curve[i].error > curve[i].target) continue;
    if (i == 0) {
      c.n_star = curve[0].n;
      c.below_grid = true;
      return c;
    }
    // Linear in log n between (n_{i-1}, gap_{i-1} > 0) and (n_i, gap_i <= 0), gap = error - target.
    const double x0 = std::log(curve[i - 1].n), x1 = std::log(curve[i].n);
    const double g0 = curve[i - 1].error - curve[i - 1].target, g1 = curve[i].error - curve[i].target;
    const double t = g0 / (g0 - g1);
    c.n_star = std::exp(x0 + t * (x1 - x0));
    return c;
  }
  c.n_star = std::numeric_limits<double>::infinity();
  c.above_grid = true;
  return c;
}

std::optional<double> loglog_slope(const std::vector<std::pair<double, double>>& points) {
  std::vector<std::pair<double, double>> logs;
  for (const auto& [x, y] : points)
    if (x > 0 && y > 0 && std::isfinite(x) && std::isfinite(y)) logs.emplace_back(std::log(x), std::log(y));
  double mean_x = 0, mean_y = 0;
  for (const auto& [x, y] : logs) mean_x += x, mean_y += y;
  if (logs.size() < 2) return std::nullopt;
  mean_x /= logs.size(), mean_y /= logs.size();
  double sxx = 0, sxy = 0;
  for (const auto& [x, y] : logs) sxx += (x - mean_x) * (x - mean_x), sxy += (x - mean_x) * (y - mean_y);
  if (sxx <= 0) return std::nullopt;
  return sxy / sxx;
}

std::optional<double> median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t m = values.size() / 2;
  if (values.size() % 2) return values[m];
  if (std::isinf(values[m])) return values[m];
  return 0.5 * (values[m - 1] + values[m]);
}

}  // namespace flowlab::ops::analyze
