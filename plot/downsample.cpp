// Smoothing and downsampling long series (plot.h), so a chart of a million steps stays a few
// thousand SVG points with the same extremes.
#include <algorithm>
#include <cmath>

#include "plot/plot.h"

namespace flowlab::plot {

std::vector<double> smooth_ema(const std::vector<double>& values, double weight) {
  std::vector<double> out(values.size());
  double average = 0;
  int seen = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]) || weight == 0) {
      out[i] = values[i];
      continue;
    }
    average = weight * average + (1 - weight) * values[i];
    ++seen;
    out[i] = average / (1 - std::pow(weight, seen));
  }
  return out;
}

std::vector<size_t> downsample_extremes(const std::vector<double>& y, size_t max_points) {
  const size_t n = y.size();
  std::vector<size_t> keep;
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) keep.push_back(i);
    return keep;
  }
  keep.push_back(0);
  const size_t interior = n - 2, buckets = (max_points - 2) / 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t from = 1 + b * interior / buckets, to = 1 + (b + 1) * interior / buckets;
    size_t lo = from, hi = from;
    for (size_t i = from; i < to; ++i) {
      // NaN compares false: a bucket of NaNs keeps its first point, which the chart skips.
      if (y[i] < y[lo]) lo = i;
      if (y[i] > y[hi]) hi = i;
    }
    if (from == to) continue;
    keep.push_back(std::min(lo, hi));
    if (hi != lo) keep.push_back(std::max(lo, hi));
  }
  keep.push_back(n - 1);
  return keep;
}

}  // namespace flowlab::plot
