// analyze.sample_complexity: a sweep aggregate. For each curve (e.g. model, k, d) and each seed it
// finds the smallest training-set size n* at which a metric reaches a target (test error within
// epsilon of the Bayes error, say), takes the median over seeds with its spread, and fits the
// log-log slope of n* against each of the chosen params (n* ~ k^slope at fixed d, per model).
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "graph/error.h"
#include "graph/sweep_results.h"
#include "ops/analyze/sample_complexity.h"
#include "ops/metrics_table.h"
#include "ops/register.h"

namespace flowlab::ops::analyze {
namespace {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) items.push_back(item);
  return items;
}

double parse_double(const std::string& text, const std::string& what) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  throw RunError(fmt::format("{} is \"{}\", not a number", what, text));
}

using GroupKey = std::vector<std::string>;  // values of the group params, in order

std::string label(const std::vector<std::string>& names, const GroupKey& key, size_t skip = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    if (i != skip) out += (out.empty() ? "" : ",") + names[i] + "=" + key[i];
  return out;
}

ArtifactPtr run_sample_complexity(OpContext& ctx) {
  const Params& p = ctx.params();
  auto results = std::dynamic_pointer_cast<const SweepResults>(ctx.raw_input("runs"));
  const std::string n_param = p.get_string("n_param"), seed_param = p.get_string("seed_param");
  const std::string metric = p.get_string("metric");
  const double target = p.get_float("target");
  const auto group_params = split_list(p.get_string("group_params"));
  const auto slope_params = split_list(p.get_string("slope_params"));

  // (group, seed) -> the error curve over n.
  std::map<GroupKey, std::map<std::string, std::vector<ErrorAtSize>>> curves;
  int used = 0;
  for (const auto& child : results->children) {
    if (child.status != "FINISHED") continue;
    auto m = child.metrics.find(metric);
    auto n = child.params.find(n_param);
    if (m == child.metrics.end() || n == child.params.end() || !std::isfinite(m->second)) continue;
    GroupKey key;
    for (const auto& g : group_params) {
      auto it = child.params.find(g);
      key.push_back(it == child.params.end() ? "(unset)" : it->second);
    }
    auto seed = child.params.find(seed_param);
    curves[key][seed == child.params.end() ? "" : seed->second].push_back(
        {parse_double(n->second, "param " + n_param), m->second, target});
    ++used;
  }
  if (curves.empty())
    throw RunError(fmt::format("no finished child run has both param '{}' and metric '{}'", n_param, metric));

  auto table = std::make_shared<MetricsTable>();
  std::ofstream csv(ctx.output_dir() / "n_star.csv");
  for (const auto& g : group_params) csv << g << ",";
  csv << "seeds,n_star_median,n_star_min,n_star_max,reached_below_grid,not_reached\n";
  std::map<GroupKey, double> medians;
  for (const auto& [key, by_seed] : curves) {
    std::vector<double> stars;
    int below = 0, above = 0;
    for (const auto& [seed, curve] : by_seed) {
      Crossing c = first_crossing(curve);
      stars.push_back(c.n_star);
      below += c.below_grid, above += c.above_grid;
    }
    double med = *median(stars);
    double lo = *std::min_element(stars.begin(), stars.end());
    double hi = *std::max_element(stars.begin(), stars.end());
    medians[key] = med;
    const std::string name = label(group_params, key);
    table->values["n_star/" + name] = med;
    ctx.log_metric("n_star/" + name, med);
    ctx.log_metric("n_star_min/" + name, lo);
    ctx.log_metric("n_star_max/" + name, hi);
    for (const auto& v : key) csv << v << ",";
    csv << fmt::format("{},{},{},{},{},{}\n", stars.size(), med, lo, hi, below, above);
  }
  csv.close();
  ctx.add_file(ctx.output_dir() / "n_star.csv", "sample_complexity");

  // Slopes: for each slope param, curves that agree on every other group param.
  std::ofstream slopes(ctx.output_dir() / "slopes.csv");
  slopes << "against,curve,points,slope\n";
  for (const auto& param : slope_params) {
    size_t index = std::find(group_params.begin(), group_params.end(), param) - group_params.begin();
    if (index == group_params.size())
      throw RunError(fmt::format("slope param '{}' is not one of group_params ({})", param,
                                 p.get_string("group_params")));
    std::map<GroupKey, std::vector<std::pair<double, double>>> lines;
    for (const auto& [key, med] : medians) {
      GroupKey rest = key;
      rest[index] = "*";
      lines[rest].emplace_back(parse_double(key[index], "param " + param), med);
    }
    for (const auto& [rest, points] : lines) {
      std::set<double> xs;
      for (const auto& pt : points) xs.insert(pt.first);
      if (xs.size() < 2) continue;
      auto slope = loglog_slope(points);
      if (!slope) continue;
      const std::string name = fmt::format("slope/{}/{}", param, label(group_params, rest, index));
      table->values[name] = *slope;
      ctx.log_metric(name, *slope);
      slopes << fmt::format("{},\"{}\",{},{}\n", param, label(group_params, rest, index), points.size(), *slope);
    }
  }
  slopes.close();
  ctx.add_file(ctx.output_dir() / "slopes.csv", "sample_complexity");
  ctx.log_metric("children_used", used);
  return table;
}

}  // namespace

void register_sample_complexity(Registry& r) {
  OpDef op;
  op.name = "analyze.sample_complexity";
  op.summary = "sweep aggregate: smallest training-set size n* reaching a target per curve (median "
               "over seeds) and log-log slopes of n*";
  op.version = 1;
  op.params = {
      string_param("metric", "train.excess_error", "child metric (node.key) that must reach the target"),
      float_param("target", 0.05, "the metric's target: n* is where it first drops to this value"),
      string_param("n_param", "data.n_train", "child param holding the training-set size"),
      string_param("group_params", "train.model,data.k,data.d", "child params that identify a curve"),
      string_param("seed_param", "seed", "child param whose values are repeats (median over them)"),
      string_param("slope_params", "data.k,data.d",
                   "group params to fit log n* against, per curve of the other group params"),
  };
  op.output_type = MetricsTable::kType;
  op.cache_output = false;
  op.run = run_sample_complexity;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::analyze
