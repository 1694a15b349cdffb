// Aggregation over repeats: statistics of a group of values and the point they plot as (the
// second section of plot.h).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "plot/plot.h"

namespace flowlab::plot {

// ---------------------------------------------------------------------------------------------
// Aggregation

Agg parse_agg(const std::string& name) {
  if (name == "mean") return Agg::kMean;
  if (name == "median") return Agg::kMedian;
  throw ConfigError(SourceLocation{"command line"}, "--agg",
                    "expected mean or median, got \"" + name + "\"",
                    did_you_mean(name, {"mean", "median"}));
}

ErrorBar parse_error_bar(const std::string& name) {
  if (name == "std") return ErrorBar::kStd;
  if (name == "sem") return ErrorBar::kSem;
  if (name == "minmax") return ErrorBar::kMinMax;
  if (name == "none") return ErrorBar::kNone;
  throw ConfigError(SourceLocation{"command line"}, "--error",
                    "expected std, sem, minmax or none, got \"" + name + "\"",
                    did_you_mean(name, {"std", "sem", "minmax", "none"}));
}

std::string to_string(Agg agg) { return agg == Agg::kMean ? "mean" : "median"; }

std::string to_string(ErrorBar error) {
  switch (error) {
    case ErrorBar::kNone:
      return "none";
    case ErrorBar::kStd:
      return "std";
    case ErrorBar::kSem:
      return "sem";
    case ErrorBar::kMinMax:
      return "minmax";
  }
  return "?";
}

Stats describe(std::vector<double> values) {
  Stats s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  const size_t mid = s.n / 2;
  s.median = s.n % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(s.n);
  // Two passes (mean first) rather than sum of squares: no cancellation when values are close.
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : 0.0;
  s.sem = s.std / std::sqrt(static_cast<double>(s.n));
  return s;
}

Point summarize(double x, const Stats& stats, Agg agg, ErrorBar error) {
  Point p;
  p.x = x;
  p.n = stats.n;
  p.y = agg == Agg::kMean ? stats.mean : stats.median;
  p.lo = p.hi = p.y;
  switch (error) {
    case ErrorBar::kNone:
      break;
    case ErrorBar::kStd:
      p.lo = p.y - stats.std, p.hi = p.y + stats.std;
      break;
    case ErrorBar::kSem:
      p.lo = p.y - stats.sem, p.hi = p.y + stats.sem;
      break;
    case ErrorBar::kMinMax:
      p.lo = stats.min, p.hi = stats.max;
      break;
  }
  return p;
}

}  // namespace flowlab::plot
