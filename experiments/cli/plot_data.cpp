#include "experiments/cli/plot_data.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "tracking/query.h"
#include "tracking/reader.h"

namespace flowlab::cli {
namespace fs = std::filesystem;

namespace {

const SourceLocation kCommandLine{"command line"};

// ---------------------------------------------------------------------------------------------
// Names and values

// Params are stored with 17 significant digits ("0.10000000000000001"); show the shortest text
// that means the same double ("0.1").
std::string display_value(const std::string& raw) {
  if (auto v = parse_double(raw)) return fmt::format("{}", *v);
  return raw;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// "names recorded: a, b, c, ... (40 in all)": enough to spot the right one without a flood.
std::string list_note(const std::string& what, const std::set<std::string>& names,
                      const std::string& prefix) {
  std::vector<std::string> shown;
  for (const auto& n : names) {
    if (shown.size() == 12) break;
    shown.push_back(prefix + n);
  }
  std::string note = what + ": " + join(shown, ", ");
  if (names.size() > shown.size()) note += fmt::format(", ... ({} in all)", names.size());
  return note;
}

enum class Kind { kStep, kRun, kParam, kMetric };

struct Field {
  Kind kind;
  std::string name;  // without prefix
};

struct KnownNames {
  std::set<std::string> params, metrics;
  size_t runs = 0;
};

// Did-you-mean for a name: names ending in it first ("model" -> "defaults.model", a dotted path
// the user shortened), else the closest by edit distance.
std::vector<std::string> suggest(const std::string& bare,
                                 const std::vector<std::string>& candidates) {
  std::vector<std::string> ends;
  for (const auto& c : candidates)
    if (c.size() > bare.size() + 1 &&
        c.compare(c.size() - bare.size() - 1, std::string::npos, "." + bare) == 0)
      ends.push_back("'" + c + "'");
  if (ends.empty()) return did_you_mean(bare, candidates);
  if (ends.size() > 3) ends.resize(3);
  const std::string last = ends.back();
  ends.pop_back();
  return {"did you mean " + (ends.empty() ? last : join(ends, ", ") + " or " + last) + "?"};
}

// Resolves a --x/--y/--group name against what the selected runs recorded.
Field resolve(const std::string& text, const std::string& flag, const KnownNames& known,
              bool allow_param, bool allow_metric) {
  const bool say_param = starts_with(text, "params.");
  const bool say_metric = starts_with(text, "metrics.");
  const std::string bare = say_param ? text.substr(7) : say_metric ? text.substr(8) : text;
  const bool is_param = known.params.count(bare) > 0;
  const bool is_metric = known.metrics.count(bare) > 0;
  const std::string where = fmt::format("the {} selected run(s)", known.runs);

  if (say_param || (!say_metric && is_param && !is_metric)) {
    if (!is_param) {
      std::vector<std::string> candidates;
      for (const auto& p : known.params) candidates.push_back("params." + p);
      auto notes = suggest(text, candidates);
      notes.push_back(list_note("params recorded", known.params, "params."));
      throw ConfigError(kCommandLine, flag, fmt::format("no param '{}' in {}", bare, where), notes);
    }
    if (!allow_param)
      throw ConfigError(kCommandLine, flag,
                        fmt::format("'{}' is a param; {} takes a metric", bare, flag));
    return {Kind::kParam, bare};
  }
  if (say_metric || (is_metric && !is_param)) {
    if (!is_metric) {
      std::vector<std::string> candidates;
      for (const auto& m : known.metrics) candidates.push_back("metrics." + m);
      auto notes = suggest(text, candidates);
      notes.push_back(list_note("metrics recorded", known.metrics, "metrics."));
      throw ConfigError(kCommandLine, flag, fmt::format("no metric '{}' in {}", bare, where),
                        notes);
    }
    if (!allow_metric)
      throw ConfigError(kCommandLine, flag,
                        fmt::format("'{}' is a metric; {} takes a param", bare, flag));
    return {Kind::kMetric, bare};
  }
  if (is_param && is_metric)
    throw ConfigError(kCommandLine, flag, fmt::format("'{}' is both a param and a metric", bare),
                      {fmt::format("write params.{} or metrics.{}", bare, bare)});
  // Unknown and unprefixed: suggest from whatever kinds the flag accepts.
  std::vector<std::string> candidates;
  if (allow_param) candidates.insert(candidates.end(), known.params.begin(), known.params.end());
  if (allow_metric) candidates.insert(candidates.end(), known.metrics.begin(), known.metrics.end());
  auto notes = suggest(text, candidates);
  if (allow_metric) notes.push_back(list_note("metrics recorded", known.metrics, ""));
  if (allow_param) notes.push_back(list_note("params recorded", known.params, ""));
  const char* what = allow_param && allow_metric ? "param or metric"
                     : allow_param               ? "param"
                                                 : "metric";
  throw ConfigError(kCommandLine, flag, fmt::format("no {} '{}' in {}", what, text, where), notes);
}

// ---------------------------------------------------------------------------------------------
// Runs

struct Run {
  int64_t id = 0;
  std::string status;
  std::map<std::string, std::string> params;
  std::map<std::string, double> final_metrics;  // "node.key" -> last value
};

struct Selection {
  std::vector<Run> runs;
  std::string source;
};

Run run_of(const tracking::RunInfo& info) {
  return Run{info.id, tracking::to_string(info.status), {}, {}};
}

std::vector<Run> runs_of(const std::vector<tracking::RunInfo>& infos) {
  std::vector<Run> out;
  for (const auto& info : infos) out.push_back(run_of(info));
  return out;
}

std::string status_counts(const std::vector<Run>& runs) {
  std::vector<std::string> statuses;
  for (const auto& r : runs) statuses.push_back(r.status);
  return children_counts(statuses);
}

Selection select_runs(const tracking::RunReader& reader, const PlotQuery& q) {
  Selection sel;
  const bool ids = !q.runs.empty() && is_run_id_list(q.runs);
  if (ids) {
    if (!q.experiment.empty() || q.parent)
      throw ConfigError(kCommandLine, "--runs",
                        "a list of run ids names the runs exactly; drop --experiment/--parent");
    const std::vector<int64_t> wanted = parse_run_ids(q.runs);
    std::set<int64_t> seen;
    for (int64_t id : wanted) {
      if (!seen.insert(id).second) continue;  // "3,1-5" names run 3 once
      auto found = reader.run(id);
      if (!found) throw ConfigError(kCommandLine, "--runs", fmt::format("no run with id {}", id));
      sel.runs.push_back(run_of(*found));
    }
    sel.source = seen.size() == 1 ? fmt::format("run {}", wanted.front())
                                  : fmt::format("{} listed runs", seen.size());
    return sel;
  }

  if (q.parent) {
    if (!reader.run(*q.parent))
      throw ConfigError(kCommandLine, "--parent", fmt::format("no run with id {}", *q.parent));
    sel.runs = runs_of(reader.children(*q.parent));
    if (sel.runs.empty())
      throw ConfigError(kCommandLine, "--parent",
                        fmt::format("run {} has no child runs (is it a sweep?)", *q.parent));
    sel.source = fmt::format("sweep run {}", *q.parent);
  } else if (!q.experiment.empty() || q.runs.empty()) {
    std::string experiment = q.experiment;
    if (experiment.empty()) {
      experiment = reader.newest_experiment();
      if (experiment.empty()) throw ConfigError(kCommandLine, "", "there are no runs yet");
    }
    // A sweep's parent run records the sweep (its axes), not results: its children stand for it.
    sel.runs = runs_of(reader.runs_except_sweep_parents(experiment));
    if (sel.runs.empty()) {
      const std::vector<std::string> all = reader.experiments();
      auto notes = did_you_mean(experiment, all);
      notes.push_back("experiments: " + join(all, ", "));
      throw ConfigError(kCommandLine, "--experiment",
                        fmt::format("no runs in experiment '{}'", experiment), notes);
    }
    sel.source = fmt::format("experiment '{}'", experiment);
  } else {
    sel.runs = runs_of(reader.runs_except_sweep_parents());
    sel.source = "all runs";
  }

  if (!q.runs.empty()) {
    // The filter language and its errors are `flowlab query`'s, so both commands agree on
    // which runs a filter means.
    tracking::RunQuery filter;
    filter.filter = q.runs;
    filter.columns = "id";
    std::set<int64_t> matching;
    for (const auto& row : tracking::run_query(reader.db(), filter).rows)
      matching.insert(std::get<int64_t>(row[0]));
    std::vector<Run> kept;
    for (auto& r : sel.runs)
      if (matching.count(r.id)) kept.push_back(std::move(r));
    if (kept.empty())
      throw ConfigError(kCommandLine, "--runs",
                        fmt::format("no run matches {} (among {})", q.runs, sel.source));
    sel.runs = std::move(kept);
    sel.source += ", filtered";
  }

  // Unfinished runs would mix partial numbers into the aggregates.
  if (!q.any_status) {
    std::vector<Run> finished;
    for (auto& r : sel.runs)
      if (r.status == "FINISHED") finished.push_back(r);
    if (finished.empty())
      throw ConfigError(
          kCommandLine, "",
          fmt::format("{} has no FINISHED runs ({})", sel.source, status_counts(sel.runs)),
          {"pass --any-status to plot them anyway"});
    sel.runs = std::move(finished);
  }
  return sel;
}

void read_run_details(const tracking::RunReader& reader, std::vector<Run>& runs) {
  std::vector<int64_t> ids;
  for (const auto& run : runs) ids.push_back(run.id);
  auto params = reader.params(ids);
  auto metrics = reader.final_metrics(ids);
  for (auto& run : runs) {
    run.params = std::move(params[run.id]);
    for (const auto& m : metrics[run.id]) run.final_metrics[m.node + "." + m.key] = m.value;
  }
}

KnownNames known_names(const std::vector<Run>& runs) {
  KnownNames k;
  k.runs = runs.size();
  for (const auto& r : runs) {
    for (const auto& [key, value] : r.params) k.params.insert(key);
    for (const auto& [key, value] : r.final_metrics) k.metrics.insert(key);
  }
  return k;
}

// (node, key) of a resolved "node.key" metric. Node names have no dots (they are YAML keys under
// nodes:) but metric keys may ("class_accuracy.3"), so split at the first dot.
std::pair<std::string, std::string> split_metric(const std::string& name) {
  const size_t dot = name.find('.');
  return {name.substr(0, dot), dot == std::string::npos ? "" : name.substr(dot + 1)};
}

// Group values compare as numbers when both are numbers ("0.001" < "0.01" < "0.1").
bool group_less(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    auto na = parse_double(a[i]), nb = parse_double(b[i]);
    if (na && nb && *na != *nb) return *na < *nb;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

struct Observation {
  double x;
  double y;
  int64_t run_id;
};

}  // namespace

bool is_run_id_list(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789,- ") == std::string::npos;
}

std::vector<int64_t> parse_run_ids(const std::string& text) {
  std::vector<int64_t> ids;
  auto bad = [&] {
    return ConfigError(kCommandLine, "--runs",
                       fmt::format("expected run ids like 3,5,10-12, got \"{}\"", text));
  };
  auto number = [&](const std::string& s) {
    const std::string digits = trim(s);
    const auto id = parse_int64(digits);
    if (!id || digits.find_first_not_of("0123456789") != std::string::npos) throw bad();
    return *id;
  };
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, comma - start);
    const size_t dash = part.find('-');
    if (dash == std::string::npos) {
      ids.push_back(number(part));
    } else {
      const int64_t a = number(part.substr(0, dash)), b = number(part.substr(dash + 1));
      if (b < a || b - a > 100000) throw bad();
      for (int64_t id = a; id <= b; ++id) ids.push_back(id);
    }
    start = comma + 1;
  }
  return ids;
}

PlotData load_plot_data(const fs::path& db_path, const PlotQuery& q) {
  if (!fs::exists(db_path))
    throw ConfigError(SourceLocation{db_path.string()}, "",
                      "no results database here yet; run a spec first or pass --workspace");
  const tracking::RunReader reader(db_path);  // migrates an older file first
  Selection sel = select_runs(reader, q);
  read_run_details(reader, sel.runs);

  const KnownNames known = known_names(sel.runs);
  // A metric family "NODE.KEY@*" (NODE may be "*"): one metric per value of the suffix, e.g.
  // certified_accuracy@0.25, @0.5, ...; the suffix is the x axis, and with NODE = "*" each node
  // is a series (Cohen vs LVM vs dual in one run).
  std::string family = q.y;
  if (family.rfind("metrics.", 0) == 0) family = family.substr(8);
  const bool is_family = family.size() > 2 && family.compare(family.size() - 2, 2, "@*") == 0;
  if (is_family && family.find('.') == std::string::npos) family = "*." + family;  // any node
  const auto [family_node, family_key] = is_family
                                             ? split_metric(family.substr(0, family.size() - 1))
                                             : std::pair<std::string, std::string>();
  const Field y =
      is_family ? Field{Kind::kMetric, family} : resolve(q.y, "--y", known, false, true);
  const Field x = is_family       ? Field{Kind::kMetric, q.x == "step" ? "radius" : q.x}
                  : q.x == "step" ? Field{Kind::kStep, "step"}
                                  : resolve(q.x, "--x", known, true, true);
  std::vector<Field> groups;
  for (const auto& g : q.group)
    groups.push_back(g == "run" ? Field{Kind::kRun, "run"}
                                : resolve(g, "--group", known, true, false));

  PlotData data;
  data.y_name = is_family ? family.substr(0, family.size() - 2) : y.name;
  data.x_name = x.name;
  data.x_is_step = x.kind == Kind::kStep;
  data.source = sel.source;
  for (const auto& g : groups) data.group_names.push_back(g.name);

  // x values as text first: a param whose values are not all numbers becomes categorical.
  std::map<int64_t, std::string> x_text;
  if (x.kind == Kind::kParam) {
    std::set<std::string> categories;
    bool numeric = true;
    for (const auto& r : sel.runs) {
      // Categories only from runs that can contribute, so no empty slot appears on the axis.
      if (!r.final_metrics.count(y.name)) continue;
      if (auto it = r.params.find(x.name); it != r.params.end()) {
        x_text[r.id] = it->second;
        categories.insert(it->second);
        numeric = numeric && parse_double(it->second).has_value();
      }
    }
    if (!numeric) data.x_categories.assign(categories.begin(), categories.end());
  }

  // Observations per group, then per x.
  using GroupKey = std::vector<std::string>;
  std::map<GroupKey, std::map<double, std::vector<Observation>>> by_group;
  const auto [y_node, y_key] = split_metric(y.name);
  auto key_of = [&](const auto& r) {
    GroupKey key;
    for (const auto& g : groups) {
      if (g.name == "node" && g.kind == Kind::kParam && is_family && family_node == "*") continue;
      if (g.kind == Kind::kRun)
        key.push_back(std::to_string(r.id));
      else if (auto it = r.params.find(g.name); it != r.params.end())
        key.push_back(it->second);
      else
        key.push_back("(unset)");
    }
    return key;
  };
  auto key_with_node = [](GroupKey key, const std::string& node) {
    if (!node.empty()) key.push_back(node);
    return key;
  };
  if (is_family && family_node == "*") {
    groups.push_back(Field{Kind::kParam, "node"});
    data.group_names.push_back("node");
  }
  for (const auto& r : sel.runs) {
    GroupKey key = key_of(r);
    std::vector<Observation> obs;
    if (is_family) {
      bool any = false;
      for (const auto& [name, value] : r.final_metrics) {
        const auto [node, key] = split_metric(name);
        if ((family_node != "*" && node != family_node) || key.rfind(family_key, 0) != 0) continue;
        auto suffix = parse_double(key.substr(family_key.size()));
        if (!suffix || !std::isfinite(value)) continue;
        GroupKey node_key = key_with_node(key_of(r), family_node == "*" ? node : "");
        by_group[node_key][*suffix].push_back({*suffix, value, r.id});
        any = true;
      }
      (any ? data.runs_used : data.runs_skipped).push_back(r.id);
      continue;
    }
    if (x.kind == Kind::kStep) {
      for (const auto& p : reader.metric_history(r.id, y_node, y_key))
        obs.push_back({static_cast<double>(p.step), p.value, r.id});
    } else {
      auto y_it = r.final_metrics.find(y.name);
      std::optional<double> xv;
      if (x.kind == Kind::kMetric) {
        if (auto it = r.final_metrics.find(x.name); it != r.final_metrics.end()) xv = it->second;
      } else if (auto it = x_text.find(r.id); it != x_text.end()) {
        if (data.x_categories.empty()) {
          xv = parse_double(it->second);
        } else {
          auto pos =
              std::lower_bound(data.x_categories.begin(), data.x_categories.end(), it->second);
          xv = static_cast<double>(pos - data.x_categories.begin());
        }
      }
      if (y_it != r.final_metrics.end() && xv) obs.push_back({*xv, y_it->second, r.id});
    }
    // NaN losses and the like cannot be averaged or drawn.
    obs.erase(std::remove_if(
                  obs.begin(), obs.end(),
                  [](const Observation& o) { return !std::isfinite(o.x) || !std::isfinite(o.y); }),
              obs.end());
    if (obs.empty()) {
      data.runs_skipped.push_back(r.id);
      continue;
    }
    data.runs_used.push_back(r.id);
    for (const auto& o : obs) by_group[key][o.x].push_back(o);
  }
  if (by_group.empty())
    throw ConfigError(
        kCommandLine, "--y",
        fmt::format("none of the {} selected run(s) has a finite {}{}", sel.runs.size(), y.name,
                    x.kind == Kind::kStep ? "" : " together with " + x.name));

  std::vector<GroupKey> order;
  for (const auto& [key, points] : by_group) order.push_back(key);
  std::stable_sort(order.begin(), order.end(), group_less);
  for (const auto& key : order) {
    std::vector<std::string> shown;
    for (size_t i = 0; i < key.size(); ++i)
      shown.push_back(groups[i].kind == Kind::kRun ? "run " + key[i] : display_value(key[i]));
    Series series{join(shown, ", "), {}};
    for (const auto& [xv, obs] : by_group[key]) {
      std::vector<double> ys;
      PlotRow row;
      for (const auto& o : obs) ys.push_back(o.y), row.run_ids.push_back(o.run_id);
      row.series = series.name;
      row.stats = describe(ys);
      row.point = summarize(xv, row.stats, q.agg, q.error);
      row.x = data.x_categories.empty() ? fmt::format("{}", xv)
                                        : data.x_categories[static_cast<size_t>(xv)];
      series.points.push_back(row.point);
      data.rows.push_back(std::move(row));
    }
    data.series.push_back(std::move(series));
  }
  return data;
}

PlotSpec make_plot_spec(const PlotData& data, const PlotQuery& q) {
  PlotSpec spec;
  spec.title = data.y_name + (data.x_is_step ? " by step" : " vs " + data.x_name);
  spec.x_label = data.x_name;
  spec.y_label = data.y_name;
  spec.legend_title = join(data.group_names, ", ");
  spec.x_categories = data.x_categories;
  spec.series = data.series;
  if (data.x_is_step) spec.error_style = ErrorStyle::kBand;

  size_t n_min = std::numeric_limits<size_t>::max(), n_max = 0;
  for (const auto& row : data.rows) {
    n_min = std::min(n_min, row.stats.n);
    n_max = std::max(n_max, row.stats.n);
  }
  std::string how;
  if (n_max <= 1) {
    how = "one run per point";
  } else {
    const std::string runs = n_min == n_max ? fmt::format("{} runs per point", n_max)
                                            : fmt::format("{}–{} runs per point", n_min, n_max);
    switch (q.error) {
      case ErrorBar::kNone:
        how = fmt::format("{} over {}", to_string(q.agg), runs);
        break;
      case ErrorBar::kMinMax:
        how = fmt::format("{}, min–max over {}", to_string(q.agg), runs);
        break;
      default:
        how = fmt::format("{} ± {} over {}", to_string(q.agg), to_string(q.error), runs);
    }
  }
  spec.subtitle = fmt::format("{} · {} · {} run{}", how, data.source, data.runs_used.size(),
                              data.runs_used.size() == 1 ? "" : "s");
  return spec;
}

Table plot_table(const PlotData& data) {
  Table t{
      {"series", "x", "y", "lo", "hi", "n", "mean", "median", "std", "sem", "min", "max", "runs"},
      {},
      {false, false, true, true, true, true, true, true, true, true, true, true, false}};
  auto number = [](double v) { return fmt::format("{}", v); };  // full precision, round-trips
  for (const auto& r : data.rows) {
    std::vector<std::string> ids;
    for (int64_t id : r.run_ids) ids.push_back(std::to_string(id));
    t.add_row({r.series, r.x, number(r.point.y), number(r.point.lo), number(r.point.hi),
               std::to_string(r.stats.n), number(r.stats.mean), number(r.stats.median),
               number(r.stats.std), number(r.stats.sem), number(r.stats.min), number(r.stats.max),
               join(ids, " ")});
  }
  return t;
}

}  // namespace flowlab::cli
