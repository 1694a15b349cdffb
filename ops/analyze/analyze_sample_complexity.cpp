// analyze.sample_complexity: a sweep aggregate. For each curve (e.g. model, k, d) and each seed it
// finds the training-set size n* from which on a metric stays at or below a target (test error
// within epsilon of the Bayes error, say), takes the median over seeds with its spread, fits the
// log-log slope of n* against each chosen param (n* ~ k^slope at fixed d, per model) and draws
// n* against each of those params, one line per model.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"
#include "graph/sweep_results.h"
#include "ops/analyze/sample_complexity.h"
#include "ops/metrics_table.h"
#include "ops/register.h"
#include "plot/plot.h"
#include "plot/svg_png.h"

namespace flowlab::ops::analyze {
namespace {

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

template <typename T>
using ByGroup = std::map<GroupKey, T, NaturalLess>;

std::string label(const std::vector<std::string>& names, const GroupKey& key,
                  size_t skip = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    if (i != skip) out += (out.empty() ? "" : ",") + names[i] + "=" + key[i];
  return out;
}

// n* over the seeds of one curve.
struct Summary {
  std::vector<std::pair<std::string, double>>
      n_stars;  // (seed, n*) (+inf: not reached on the grid)
  double median = 0, q25 = 0, q75 = 0, min = 0, max = 0;
  int below_grid = 0, above_grid = 0, dipped = 0, dropped = 0;
  double grid_min = 0;
  // The median is only an upper bound: at least half the seeds were at target from the smallest n.
  bool median_below_grid() const { return median <= grid_min; }
  bool median_exact() const { return std::isfinite(median) && !median_below_grid(); }
};

std::string number(double v) { return std::isinf(v) ? "inf" : fmt::format("{:.6g}", v); }

// "data.k" -> "k": the short name used in file names and axis labels.
std::string short_name(const std::string& param) {
  auto dot = param.rfind('.');
  return dot == std::string::npos ? param : param.substr(dot + 1);
}

// One figure: n* against `param`, one line per combination of the other group params that varies
// between curves (the model); the ones that do not vary go in the subtitle.
std::string draw_n_star(const std::vector<std::string>& group_params, size_t index,
                        const ByGroup<Summary>& summaries,
                        const std::map<std::string, double>& slopes, const std::string& metric,
                        double target, size_t seeds, double grid_max) {
  // Lines: curves agreeing on every group param but `param`, with at least two x values.
  ByGroup<std::vector<std::pair<double, const Summary*>>> lines;
  for (const auto& [key, s] : summaries) {
    GroupKey rest = key;
    rest[index] = "*";
    lines[rest].emplace_back(parse_double(key[index], "param " + group_params[index]), &s);
  }
  for (auto it = lines.begin(); it != lines.end();)
    it = it->second.size() < 2 ? lines.erase(it) : std::next(it);
  if (lines.empty()) return "";

  // Which of the other params tell the lines apart (legend) and which are the same for all
  // (subtitle).
  std::vector<size_t> varying, fixed;
  for (size_t i = 0; i < group_params.size(); ++i) {
    if (i == index) continue;
    std::set<std::string> values;
    for (const auto& [rest, points] : lines) values.insert(rest[i]);
    (values.size() > 1 ? varying : fixed).push_back(i);
  }
  auto join = [&](const GroupKey& key, const std::vector<size_t>& which, bool with_names) {
    std::string out;
    for (size_t i : which)
      out += (out.empty() ? "" : ", ") + (with_names ? group_params[i] + "=" : "") + key[i];
    return out;
  };

  const std::string x_name = short_name(group_params[index]);
  plot::PlotSpec spec;
  spec.title = fmt::format("Sample complexity n* against {}", x_name);
  std::string where = join(lines.begin()->first, fixed, true);
  spec.subtitle = fmt::format("{}median and interquartile range over {} seeds",
                              where.empty() ? "" : where + "; ", seeds);
  spec.x_label = group_params[index];
  spec.y_label = fmt::format("n*: {} <= {} from n* on", metric, number(target));
  spec.width = 900;
  spec.x_scale = spec.y_scale = plot::Scale::kLog;
  spec.error_style = plot::ErrorStyle::kBars;
  for (size_t i : varying)
    spec.legend_title += (spec.legend_title.empty() ? "" : ", ") + group_params[i];

  std::set<double> xs;
  std::vector<std::string> absent;  // lines with no reached point at all
  for (auto& [rest, points] : lines) {
    for (const auto& pt : points) xs.insert(pt.first);
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    plot::Series series;
    series.name = join(rest, varying, false);
    auto slope = slopes.find(
        fmt::format("slope/{}/{}", group_params[index], label(group_params, rest, index)));
    if (slope != slopes.end()) series.name += fmt::format("  (slope {:.2f})", slope->second);
    std::vector<std::string> unreached, below;
    for (const auto& [x, s] : points) {
      if (std::isinf(s->median)) {
        unreached.push_back(number(x));
        continue;
      }
      if (s->median_below_grid()) below.push_back(number(x));
      plot::Point p;
      p.x = x;
      p.y = s->median;
      p.lo = s->q25;
      p.hi = std::isinf(s->q75) ? grid_max : s->q75;  // censored: the bar runs to the grid's top
      p.n = s->n_stars.size();
      series.points.push_back(p);
    }
    if (!below.empty())
      series.name += fmt::format("  [n* <= smallest n at {}={}]", x_name, fmt::join(below, ","));
    if (!unreached.empty())
      series.name +=
          fmt::format("  [n* > {} at {}={}]", number(grid_max), x_name, fmt::join(unreached, ","));
    if (series.points.empty())
      absent.push_back(join(rest, varying, false));
    else
      spec.series.push_back(std::move(series));
  }
  if (!absent.empty())
    spec.subtitle +=
        fmt::format("; not reached by n = {}: {}", number(grid_max), fmt::join(absent, ", "));
  if (spec.series.empty()) return "";
  spec.x_ticks.assign(xs.begin(), xs.end());  // the grid's values (2, 4, 8, 16), not 1-2-5 ticks
  return plot::render_svg(spec);
}

// What the op was asked, from its params.
struct Settings {
  std::string metric, n_param, seed_param;
  double target = 0;
  std::vector<std::string> group_params, slope_params;
};

// Step 1: the children as error curves, group -> seed -> (n, metric) points; per group the grid
// (every n a child ran, finished or not) and the children that cannot be used.
struct Curves {
  ByGroup<std::map<std::string, std::vector<ErrorAtSize>, NaturalLess>> by_group;
  ByGroup<std::set<double>> grids;
  ByGroup<int> dropped;  // not FINISHED, or no finite metric
  int used = 0, dropped_total = 0;
  double grid_max = 0;
  std::set<std::string> seeds;
};

Curves collect_curves(const SweepResults& results, const Settings& set) {
  Curves out;
  std::map<std::tuple<GroupKey, std::string, double>, int64_t> seen;  // two runs at one point?
  for (const auto& child : results.children) {
    GroupKey key;
    for (const auto& g : set.group_params) {
      auto it = child.params.find(g);
      key.push_back(it == child.params.end() ? "(unset)" : it->second);
    }
    auto n = child.params.find(set.n_param);
    if (n == child.params.end()) continue;  // not part of this analysis
    const double n_value = parse_double(n->second, "param " + set.n_param);
    out.grids[key].insert(n_value);
    out.grid_max = std::max(out.grid_max, n_value);
    auto m = child.metrics.find(set.metric);
    if (child.status != "FINISHED" || m == child.metrics.end() || !std::isfinite(m->second)) {
      ++out.dropped[key], ++out.dropped_total;
      continue;
    }
    auto seed = child.params.find(set.seed_param);
    const std::string seed_value = seed == child.params.end() ? "" : seed->second;
    auto [where, fresh] = seen.emplace(std::make_tuple(key, seed_value, n_value), child.run_id);
    if (!fresh)
      throw RunError(fmt::format(
          "runs {} and {} are the same point ({}, {}={}, {}={}): add the param that tells "
          "them apart to group_params, or name it in seed_param",
          where->second, child.run_id, label(set.group_params, key), set.seed_param, seed_value,
          set.n_param, n->second));
    out.by_group[key][seed_value].push_back({n_value, m->second, set.target});
    out.seeds.insert(seed_value);
    ++out.used;
  }
  if (out.by_group.empty())
    throw RunError(fmt::format("no finished child run has both param '{}' and a finite metric '{}'",
                               set.n_param, set.metric));
  return out;
}

// Step 2: one group's n* per seed and their spread.
Summary summarize(std::map<std::string, std::vector<ErrorAtSize>, NaturalLess>& by_seed,
                  const std::set<double>& grid, int dropped, double target) {
  Summary s;
  s.grid_min = *grid.begin();
  s.dropped = dropped;
  std::vector<double> values;
  for (auto& [seed, curve] : by_seed) {
    // A grid point this seed has no result for (its child failed) counts as not at target, so a
    // missing point can neither end a curve early nor let it settle sooner.
    std::set<double> have;
    for (const auto& point : curve) have.insert(point.n);
    for (double n : grid)
      if (!have.count(n)) curve.push_back({n, std::numeric_limits<double>::infinity(), target});
    Crossing c = settling_point(curve);
    s.n_stars.emplace_back(seed, c.n_star);
    values.push_back(c.n_star);
    s.below_grid += c.below_grid, s.above_grid += c.above_grid, s.dipped += c.dipped;
  }
  s.median = *median(values);
  s.q25 = *quantile(values, 0.25);
  s.q75 = *quantile(values, 0.75);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

ArtifactPtr run_sample_complexity(OpContext& ctx) {
  const Params& p = ctx.params();
  Settings set;
  set.metric = p.get_string("metric");
  set.target = p.get_float("target");
  set.n_param = p.get_string("n_param");
  set.seed_param = p.get_string("seed_param");
  set.group_params = p.get_string_list("group_params");
  set.slope_params = p.get_string_list("slope_params");
  const auto& group_params = set.group_params;
  auto results = ctx.input<SweepResults>("runs");
  Curves curves = collect_curves(*results, set);

  // Step 2 for every group: n* per seed and their spread, logged and written to n_star.csv.
  auto table = std::make_shared<MetricsTable>();
  ByGroup<Summary> summaries;
  std::ostringstream csv;
  for (const auto& g : group_params) csv << g << ",";
  csv << "seeds,n_star_median,n_star_q25,n_star_q75,n_star_min,n_star_max,settled_below_grid,"
         "not_reached,dipped_earlier,children_dropped,n_star_per_seed\n";
  for (auto& [key, by_seed] : curves.by_group) {
    Summary s = summarize(by_seed, curves.grids[key], curves.dropped[key], set.target);
    const std::string name = label(group_params, key);
    table->values["n_star/" + name] = s.median;
    ctx.log_metric("n_star/" + name, s.median);
    ctx.log_metric("n_star_min/" + name, s.min);
    ctx.log_metric("n_star_max/" + name, s.max);
    std::vector<std::string> per_seed;
    for (const auto& [seed, v] : s.n_stars)
      per_seed.push_back(fmt::format("{}:{}", seed, number(v)));
    for (const auto& v : key) csv << v << ",";
    csv << fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", s.n_stars.size(), number(s.median),
                       number(s.q25), number(s.q75), number(s.min), number(s.max), s.below_grid,
                       s.above_grid, s.dipped, s.dropped, fmt::join(per_seed, " "));
    summaries.emplace(key, std::move(s));
  }
  write_text_file(ctx.output_dir() / "n_star.csv", csv.str());
  ctx.add_file(ctx.output_dir() / "n_star.csv", "sample_complexity");

  // Step 3: slopes. For each slope param, the curves that agree on every other group param.
  std::map<std::string, double> slopes;
  std::ostringstream slopes_csv;
  slopes_csv << "against,curve,points,points_exact,slope\n";
  std::vector<size_t> slope_indices;
  for (const auto& param : set.slope_params) {
    size_t index =
        std::find(group_params.begin(), group_params.end(), param) - group_params.begin();
    if (index == group_params.size())
      throw RunError(fmt::format("slope param '{}' is not one of group_params ({})", param,
                                 p.get_string("group_params")));
    slope_indices.push_back(index);
    ByGroup<std::vector<std::pair<double, const Summary*>>> lines;
    for (const auto& [key, s] : summaries) {
      GroupKey rest = key;
      rest[index] = "*";
      lines[rest].emplace_back(parse_double(key[index], "param " + param), &s);
    }
    for (const auto& [rest, points] : lines) {
      std::set<double> xs;
      std::vector<std::pair<double, double>> medians;
      for (const auto& [x, s] : points) xs.insert(x), medians.emplace_back(x, s->median);
      if (xs.size() < 2) continue;
      const std::string curve = label(group_params, rest, index);
      const size_t exact = std::count_if(points.begin(), points.end(),
                                         [](const auto& pt) { return pt.second->median_exact(); });
      // A curve with a censored point (n* beyond the grid, or at target from the smallest n on)
      // has no honest slope: n* there is only a bound.
      double slope = std::numeric_limits<double>::quiet_NaN();
      if (exact == points.size())
        if (auto fit = loglog_slope(medians)) slope = *fit;
      slopes_csv << fmt::format(
          "{},\"{}\",{},{},{}\n", param, curve, points.size(), exact,
          std::isnan(slope) ? std::string("censored") : fmt::format("{}", slope));
      if (std::isnan(slope)) continue;
      const std::string name = fmt::format("slope/{}/{}", param, curve);
      slopes[name] = slope;
      table->values[name] = slope;
      ctx.log_metric(name, slope);
    }
  }
  write_text_file(ctx.output_dir() / "slopes.csv", slopes_csv.str());
  ctx.add_file(ctx.output_dir() / "slopes.csv", "sample_complexity");

  // Step 4: a figure against each slope param.
  if (p.get_bool("plots"))
    for (size_t index : slope_indices) {
      std::string svg = draw_n_star(group_params, index, summaries, slopes, set.metric, set.target,
                                    curves.seeds.size(), curves.grid_max);
      if (svg.empty()) continue;
      const auto file =
          ctx.output_dir() / fmt::format("n_star_vs_{}.svg", short_name(group_params[index]));
      write_text_file(file, svg);
      ctx.add_file(file, "plot");
      if (plot::png_supported()) {  // a PNG too, for slides and viewers without SVG
        const auto png = std::filesystem::path(file).replace_extension(".png");
        plot::write_png(svg, png);
        ctx.add_file(png, "plot");
      }
    }
  ctx.log_metric("children_used", curves.used);
  ctx.log_metric("children_dropped", curves.dropped_total);
  return table;
}

}  // namespace

void register_sample_complexity(Registry& r) {
  OpDef op;
  op.name = "analyze.sample_complexity";
  op.summary =
      "sweep aggregate: training-set size n* from which a metric stays at a target, per curve "
      "(median over seeds), log-log slopes of n* and plots of n* against each slope param";
  op.version = 3;  // 3: group_params and slope_params are lists
  op.params = {
      string_param(
          "metric", "train.excess_error",
          "child metric (node.key) that must reach the target; n* is the smallest n from which on "
          "it stays at or below the target on the n grid (interpolated in log n), so a lucky dip "
          "at "
          "a small n does not count; a child that failed or has no finite value counts as not at "
          "target at its n (counted in children_dropped)"),
      float_param("target", 0.05, "the metric's target"),
      string_param("n_param", "data.n_train", "child param holding the training-set size"),
      string_list_param("group_params", {"train.model", "data.k", "data.d"},
                        "child params that identify a curve"),
      string_param("seed_param", "seed", "child param whose values are repeats (median over them)"),
      string_list_param("slope_params", {"data.k", "data.d"},
                        "group params to fit log n* against, per curve of the other group params"),
      bool_param(
          "plots", true,
          "draw n_star_vs_<param>.svg (and .png where librsvg is built in) for each slope param: "
          "log-log, one line per curve, median and interquartile range over seeds"),
  };
  op.inputs = {{"runs", SweepResults::kType, "the sweep's child runs (connected automatically)"}};
  op.output_type = MetricsTable::kType;
  op.cache_output = false;
  op.run = run_sample_complexity;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::analyze
