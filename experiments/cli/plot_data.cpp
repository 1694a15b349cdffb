#include "experiments/cli/plot_data.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string_view>
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

// (node, key) of a resolved "node.key" metric. Node names have no dots (they are YAML keys under
// nodes:) but metric keys may ("class_accuracy.3"), so split at the first dot.
std::pair<std::string, std::string> split_metric(const std::string& name) {
  const size_t dot = name.find('.');
  return {name.substr(0, dot), dot == std::string::npos ? "" : name.substr(dot + 1)};
}

enum class Kind { kStep, kRun, kParam, kMetric, kSuffix };

struct Field {
  Kind kind;
  std::string name;  // without prefix
};

struct KnownNames {
  std::set<std::string> params, metrics;
  std::set<std::string> families;  // "node.key@*" for each metric node.key@<number>
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

// One --y: a metric, or a metric family (its members are metrics node.key@<number>).
struct YField {
  std::string name;  // "eval.accuracy"; a family without "@*": "robust_legs.accuracy", "*.acr"
  std::string node;  // a family's may be "*": any node, one series each
  std::string key;   // a metric's key; a family's members' key up to the number: "accuracy@"
  bool family = false;

  bool any_node() const { return family && node == "*"; }
  std::string shown() const { return family ? name + "@*" : name; }
};

// "NODE.KEY@*", "metrics.NODE.KEY@*" or "KEY@*" (any node) as a family; nullopt for other names.
std::optional<YField> parse_family(const std::string& text) {
  std::string name = starts_with(text, "metrics.") ? text.substr(8) : text;
  if (name.size() < 3 || name.compare(name.size() - 2, 2, "@*") != 0) return std::nullopt;
  name.resize(name.size() - 2);
  if (name.find('.') == std::string::npos) name = "*." + name;
  auto [node, key] = split_metric(name);
  return YField{name, node, key + "@", true};
}

// The number after '@' when metric node.key is a member of `family`: its node (unless any), then
// the family's key, then a finite number and nothing else ("accuracy@best" is no member).
std::optional<double> member_x(const YField& family, const std::string& node,
                               const std::string& key) {
  if ((family.node != "*" && node != family.node) || !starts_with(key, family.key))
    return std::nullopt;
  const auto x = parse_double(std::string_view(key).substr(family.key.size()));
  if (!x || !std::isfinite(*x)) return std::nullopt;
  return x;
}

// Resolves one --y. A family must have a member in some selected run; a metric resolves as
// resolve() does, with a pointer to the family when the name is a family's without its "@*".
YField resolve_y(const std::string& text, const KnownNames& known) {
  if (auto family = parse_family(text)) {
    for (const auto& m : known.metrics) {
      const auto [node, key] = split_metric(m);
      if (member_x(*family, node, key)) return *family;
    }
    const std::string bare = starts_with(text, "metrics.") ? text.substr(8) : text;
    std::vector<std::string> candidates(known.families.begin(), known.families.end());
    if (bare.find('.') == std::string::npos)  // "KEY@*" for any node: compare keys too
      for (const auto& f : known.families) candidates.push_back(split_metric(f).second);
    auto notes = suggest(bare, candidates);
    notes.push_back(known.families.empty()
                        ? "no selected run logged a metric family (metrics NODE.KEY@<number>)"
                        : list_note("metric families recorded", known.families, ""));
    throw ConfigError(
        kCommandLine, "--y",
        fmt::format("no metric family '{}' in the {} selected run(s)", bare, known.runs), notes);
  }
  const std::string bare = starts_with(text, "metrics.") ? text.substr(8) : text;
  if (!known.metrics.count(bare) && known.families.count(bare + "@*"))
    throw ConfigError(kCommandLine, "--y",
                      fmt::format("no metric '{}' in the {} selected run(s); '{}@*' is a metric "
                                  "family",
                                  bare, known.runs, bare),
                      {fmt::format("plot it with --y '{}@*'", bare)});
  const Field metric = resolve(text, "--y", known, false, true);
  const auto [node, key] = split_metric(metric.name);
  return YField{metric.name, node, key, false};
}

// The y's of the query, resolved; all families or none.
std::vector<YField> resolve_ys(const std::vector<std::string>& texts, const KnownNames& known) {
  if (texts.empty()) throw ConfigError(kCommandLine, "--y", "name a metric to plot");
  std::vector<YField> ys;
  for (const auto& text : texts) {
    YField y = resolve_y(text, known);
    for (const auto& other : ys) {
      if (other.shown() == y.shown())
        throw ConfigError(kCommandLine, "--y", fmt::format("'{}' is given twice", y.shown()));
      if (other.family != y.family) {
        const YField& family = y.family ? y : other;
        const YField& metric = y.family ? other : y;
        throw ConfigError(
            kCommandLine, "--y",
            fmt::format("'{}' is a metric family and '{}' a single metric: they share no x axis",
                        family.shown(), metric.name),
            {"a family's x is the number after '@'; plot the metric on its own"});
      }
    }
    ys.push_back(std::move(y));
  }
  return ys;
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
  for (const auto& m : k.metrics) {
    const auto [node, key] = split_metric(m);
    const size_t at = key.rfind('@');
    if (at != std::string::npos && parse_double(std::string_view(key).substr(at + 1)))
      k.families.insert(node + "." + key.substr(0, at + 1) + "*");
  }
  return k;
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
  std::string node;  // for a family of any node: the member's node
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

PlotData load_plot_data(const tracking::StoreLocation& db_path, const PlotQuery& q) {
  if (db_path.is_sqlite() && !fs::exists(db_path.sqlite_path))
    throw ConfigError(SourceLocation{db_path.sqlite_path.string()}, "",
                      "no results database here yet; run a spec first or pass --workspace");
  const tracking::RunReader reader(db_path);  // migrates an older file first
  Selection sel = select_runs(reader, q);
  read_run_details(reader, sel.runs);

  const KnownNames known = known_names(sel.runs);
  const std::vector<YField> ys = resolve_ys(q.y, known);
  const bool families = ys.front().family;
  if (families && !q.x.empty())
    throw ConfigError(kCommandLine, "--x",
                      fmt::format("a metric family is drawn against the number after '@', not "
                                  "against '{}'",
                                  q.x),
                      {"leave --x out; --xlabel names the axis"});
  Field x{Kind::kStep, "step"};
  if (families) {
    // The families' keys up to the number, once each: "accuracy@".
    std::vector<std::string> keys;
    for (const auto& y : ys)
      if (std::find(keys.begin(), keys.end(), y.key) == keys.end()) keys.push_back(y.key);
    x = Field{Kind::kSuffix, join(keys, ", ")};
  } else if (!q.x.empty() && q.x != "step") {
    x = resolve(q.x, "--x", known, true, true);
  }
  std::vector<Field> groups;
  for (const auto& g : q.group)
    groups.push_back(g == "run" ? Field{Kind::kRun, "run"}
                                : resolve(g, "--group", known, true, false));
  // One y of any node: the node is the last part of each series' name (with several y's it
  // stands in the y's name instead: "cohen.certified_accuracy").
  const bool node_group = ys.size() == 1 && ys.front().any_node();

  PlotData data;
  for (const auto& y : ys) data.y_names.push_back(y.name);
  data.y_name = join(data.y_names, ", ");
  data.x_name = x.name;
  data.x_is_step = x.kind == Kind::kStep;
  data.x_is_suffix = x.kind == Kind::kSuffix;
  data.source = sel.source;
  for (const auto& g : groups) data.group_names.push_back(g.name);
  if (node_group) data.group_names.push_back("node");

  // x values as text first: a param whose values are not all numbers becomes categorical.
  std::map<int64_t, std::string> x_text;
  if (x.kind == Kind::kParam) {
    std::set<std::string> categories;
    bool numeric = true;
    for (const auto& r : sel.runs) {
      // Categories only from runs that can contribute, so no empty slot appears on the axis.
      if (std::none_of(ys.begin(), ys.end(),
                       [&](const YField& y) { return r.final_metrics.count(y.name) > 0; }))
        continue;
      if (auto it = r.params.find(x.name); it != r.params.end()) {
        x_text[r.id] = it->second;
        categories.insert(it->second);
        numeric = numeric && parse_double(it->second).has_value();
      }
    }
    if (!numeric) data.x_categories.assign(categories.begin(), categories.end());
  }

  // A run's points for one y.
  auto observations = [&](const Run& r, const YField& y) {
    std::vector<Observation> obs;
    if (y.family) {
      for (const auto& [name, value] : r.final_metrics) {
        const auto [node, key] = split_metric(name);
        if (auto xv = member_x(y, node, key)) obs.push_back({*xv, value, r.id, node});
      }
    } else if (x.kind == Kind::kStep) {
      for (const auto& p : reader.metric_history(r.id, y.node, y.key))
        obs.push_back({static_cast<double>(p.step), p.value, r.id, ""});
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
      if (y_it != r.final_metrics.end() && xv) obs.push_back({*xv, y_it->second, r.id, ""});
    }
    // NaN losses and the like cannot be averaged or drawn.
    obs.erase(std::remove_if(
                  obs.begin(), obs.end(),
                  [](const Observation& o) { return !std::isfinite(o.x) || !std::isfinite(o.y); }),
              obs.end());
    return obs;
  };

  // The cache key each run's node had: runs that reused one computation (a shared node, or a
  // seed the node does not depend on) are one observation, not repeats.
  std::map<std::pair<int64_t, std::string>, std::string> computed_by;
  if (!sel.runs.empty()) {
    std::string in;
    std::vector<tracking::SqlValue> binds;
    for (const auto& r : sel.runs) in += in.empty() ? "?" : ", ?", binds.emplace_back(r.id);
    for (const auto& row :
         reader.db()
             .execute("SELECT run_id, node, cache_key FROM node_executions WHERE cache_key != '' "
                      "AND run_id IN (" +
                          in + ")",
                      binds)
             .rows)
      computed_by[{std::get<int64_t>(row[0]), std::get<std::string>(row[1])}] =
          std::get<std::string>(row[2]);
  }

  // Observations per series (the y's index, the group values, the node for a family of any
  // node), then per x.
  using GroupKey = std::vector<std::string>;
  using SeriesKey = std::pair<size_t, GroupKey>;
  std::map<SeriesKey, std::map<double, std::vector<Observation>>> by_series;
  for (const auto& r : sel.runs) {
    GroupKey group_key;
    for (const auto& g : groups) {
      if (g.kind == Kind::kRun)
        group_key.push_back(std::to_string(r.id));
      else if (auto it = r.params.find(g.name); it != r.params.end())
        group_key.push_back(it->second);
      else
        group_key.push_back("(unset)");
    }
    bool used = false;
    for (size_t i = 0; i < ys.size(); ++i) {
      for (auto& o : observations(r, ys[i])) {
        GroupKey key = group_key;
        if (ys[i].any_node()) key.push_back(o.node);
        by_series[{i, std::move(key)}][o.x].push_back(std::move(o));
        used = true;
      }
    }
    (used ? data.runs_used : data.runs_skipped).push_back(r.id);
  }
  if (by_series.empty()) {
    std::vector<std::string> shown;
    for (const auto& y : ys) shown.push_back(y.shown());
    throw ConfigError(
        kCommandLine, "--y",
        fmt::format(
            "none of the {} selected run(s) has a finite {}{}", sel.runs.size(),
            join(shown, " or "),
            x.kind == Kind::kMetric || x.kind == Kind::kParam ? " together with " + x.name : ""));
  }

  // Series in the order of the y's, then by group value.
  std::vector<SeriesKey> order;
  for (const auto& [key, points] : by_series) order.push_back(key);
  std::stable_sort(order.begin(), order.end(), [](const SeriesKey& a, const SeriesKey& b) {
    return a.first != b.first ? a.first < b.first : group_less(a.second, b.second);
  });
  for (const auto& key : order) {
    const YField& y = ys[key.first];
    const std::string node = y.any_node() ? key.second.back() : "";
    std::vector<std::string> shown;
    if (ys.size() > 1)
      shown.push_back(y.any_node() ? node + "." + split_metric(y.name).second : y.name);
    for (size_t i = 0; i < groups.size(); ++i)
      shown.push_back(groups[i].kind == Kind::kRun ? "run " + key.second[i]
                                                   : display_value(key.second[i]));
    if (node_group) shown.push_back(node);
    Series series{join(shown, ", "), {}};
    const std::string y_node = y.any_node() ? "" : split_metric(y.name).first;
    for (const auto& [xv, obs] : by_series[key]) {
      std::vector<double> values;
      PlotRow row;
      std::set<std::string> computations;
      for (const auto& o : obs) {
        row.run_ids.push_back(o.run_id);
        auto it = computed_by.find({o.run_id, o.node.empty() ? y_node : o.node});
        if (it != computed_by.end() && !computations.insert(it->second).second) continue;
        values.push_back(o.y);
      }
      row.series = series.name;
      row.stats = describe(values);
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
  std::vector<std::string> legend = data.group_names;
  if (data.y_names.size() > 1) legend.insert(legend.begin(), "metric");
  spec.legend_title = join(legend, ", ");
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
