#pragma once
// The statistics of `analyze.summary`, separate from the op so they can be tested alone: final
// metrics of a sweep's children, grouped by chosen params, as mean, std, sem, min, max and counts.
#include <string>
#include <vector>

#include "graph/op.h"
#include "graph/sweep_results.h"

namespace flowlab::ops::analyze {

/// One metric over the finished children of one group. Undefined statistics are NaN: every one
/// when n = 0, std and sem when n = 1 (a sample std needs two values; 0 would claim no spread).
struct MetricStats {
  std::string metric;  // "eval.accuracy"
  int n = 0;           // finished children of the group with a finite value
  int missing = 0;     // finished children of the group without one (not logged, NaN or inf)
  double mean = 0, std = 0, sem = 0, min = 0, max = 0;
};

/// The statistics of `values` (closed forms: std is the sample std, sum of squared deviations
/// over n - 1; sem = std / sqrt(n)). `missing` is left 0.
MetricStats describe(std::string metric, const std::vector<double>& values);

struct GroupStats {
  std::vector<std::string>
      key;           // the `by` params' values, in order; "(unset)" where a child has none
  int children = 0;  // every child of the group
  int failed = 0;    // not FINISHED (failed, killed): none of their metrics are used
  std::vector<MetricStats> metrics;  // one per selected metric, in SweepSummary::metrics order
};

struct SweepSummary {
  std::vector<std::string> by;       // the grouping params
  std::vector<std::string> metrics;  // the selected metric names
  std::vector<GroupStats> groups;    // ordered by key, value by value, numbers as numbers
};

/// Groups `children` by the values of the `by` params (none: one group) and describes each
/// selected metric in each group. `patterns` are metric names or globs (fnmatch: `eval.*`,
/// `certify.certified_accuracy@*`); a metric is selected when a finished child has it and a
/// pattern matches it, in the order of the first pattern that matches, by name after that. No
/// patterns selects every metric of a finished child. Throws RunError when a `by` param is no
/// child's param, or a pattern matches no finished child's metric (a typo, most likely).
SweepSummary summarize_sweep(const std::vector<ChildResult>& children,
                             const std::vector<std::string>& by,
                             const std::vector<std::string>& patterns);

/// "train.model=cnn,seed=0" for a group's key; "" with no `by` params.
std::string group_label(const std::vector<std::string>& by, const std::vector<std::string>& key);

/// Registers `analyze.summary`.
void register_summary(Registry& registry);

}  // namespace flowlab::ops::analyze
