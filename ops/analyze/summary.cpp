#include "ops/analyze/summary.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"

namespace flowlab::ops::analyze {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool matches(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

}  // namespace

MetricStats describe(std::string metric, const std::vector<double>& values) {
  MetricStats s;
  s.metric = std::move(metric);
  s.n = static_cast<int>(values.size());
  if (values.empty()) {
    s.mean = s.std = s.sem = s.min = s.max = kNaN;
    return s;
  }
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / s.n;
  // Two passes: summing squared deviations from the mean keeps the precision that
  // sum(x^2) - n mean^2 loses when the values are close together (accuracies over seeds).
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std = s.n > 1 ? std::sqrt(squares / (s.n - 1)) : kNaN;
  s.sem = s.n > 1 ? s.std / std::sqrt(static_cast<double>(s.n)) : kNaN;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

std::string group_label(const std::vector<std::string>& by, const std::vector<std::string>& key) {
  std::string out;
  for (size_t i = 0; i < by.size() && i < key.size(); ++i)
    out += (out.empty() ? "" : ",") + by[i] + "=" + key[i];
  return out;
}

SweepSummary summarize_sweep(const std::vector<ChildResult>& children,
                             const std::vector<std::string>& by,
                             const std::vector<std::string>& patterns) {
  SweepSummary out;
  out.by = by;

  // A `by` param that no child has is a typo, not a group of "(unset)".
  for (const auto& param : by) {
    const bool known = std::any_of(children.begin(), children.end(),
                                   [&](const ChildResult& c) { return c.params.count(param) > 0; });
    if (!known && !children.empty()) {
      std::set<std::string> names;
      for (const auto& c : children)
        for (const auto& kv : c.params) names.insert(kv.first);
      std::vector<std::string> candidates(names.begin(), names.end());
      std::string hint = closest_match(param, candidates);
      throw RunError(fmt::format("no child run has param '{}'{}", param,
                                 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
  }

  // The selected metrics: those of finished children that a pattern matches, ordered by the first
  // pattern that matches them, then by name.
  std::set<std::string> available;
  for (const auto& c : children)
    if (c.status == "FINISHED")
      for (const auto& kv : c.metrics) available.insert(kv.first);
  if (patterns.empty()) {
    out.metrics.assign(available.begin(), available.end());
  } else {
    std::set<std::string> taken;
    for (const auto& pattern : patterns) {
      bool any = false;
      for (const auto& name : available)
        if (matches(pattern, name)) {
          any = true;
          if (taken.insert(name).second) out.metrics.push_back(name);
        }
      if (!any)
        throw RunError(
            fmt::format("no finished child run has a metric matching '{}' (they have: {})", pattern,
                        available.empty() ? std::string("none")
                                          : fmt::format("{}", fmt::join(available, ", "))));
    }
  }

  // Group, then describe each metric over the group's finished children.
  std::map<std::vector<std::string>, std::vector<const ChildResult*>, NaturalLess> groups;
  for (const auto& c : children) {
    std::vector<std::string> key;
    for (const auto& param : by) {
      auto it = c.params.find(param);
      key.push_back(it == c.params.end() ? "(unset)" : it->second);
    }
    groups[key].push_back(&c);
  }
  for (const auto& [key, members] : groups) {
    GroupStats g;
    g.key = key;
    g.children = static_cast<int>(members.size());
    for (const ChildResult* c : members) g.failed += c->status != "FINISHED";
    for (const auto& metric : out.metrics) {
      std::vector<double> values;
      int missing = 0;
      for (const ChildResult* c : members) {
        if (c->status != "FINISHED") continue;
        auto it = c->metrics.find(metric);
        if (it != c->metrics.end() && std::isfinite(it->second))
          values.push_back(it->second);
        else
          ++missing;
      }
      MetricStats s = describe(metric, values);
      s.missing = missing;
      g.metrics.push_back(std::move(s));
    }
    out.groups.push_back(std::move(g));
  }
  return out;
}

}  // namespace flowlab::ops::analyze
