#pragma once
// The data behind `flowlab plot`: selects runs from the results database, resolves the --x, --y
// and --group names against the params and metrics those runs recorded, and aggregates repeats
// (runs sharing a group and an x, e.g. seeds) into plotted points. Reads through its own read-only
// SQLite connection; no LibTorch.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "experiments/cli/table.h"
#include "plot/plot.h"
#include "tracking/connection.h"

namespace flowlab::cli {

// The plot model lives in plot/ (analysis ops draw with it too); the CLI uses its names as its own.
using namespace flowlab::plot;  // NOLINT(google-build-using-namespace)

/// What to plot and from which runs: the flags of `flowlab plot`.
///
/// Names: a metric is "metrics.NODE.KEY" (or "NODE.KEY"), a param is "params.KEY" (or "KEY",
/// e.g. "data.limit_train"); the prefix is needed only when a name is both.
/// A metric family is "NODE.KEY@*": the metrics NODE.KEY@<number> that a run logs once each
/// (accuracy per noise amplitude, certified accuracy per radius), drawn against the number.
/// Members whose suffix is not a number (NODE.KEY@best) are not in the family. NODE may be "*"
/// (or left out, "KEY@*"): every node's members, one series per node.
struct PlotQuery {
  // Metrics, or metric families, each its own series (with groups: one per y and group value).
  // All families or no family: a family's x is the number after '@'.
  std::vector<std::string> y;
  std::string x;                   // "step" (also when empty), a param, or a metric (its final
                                   // value); must stay empty for families
  std::vector<std::string> group;  // params whose values make the series, or {"run"}; may be empty
  // Which runs:
  //  - runs = ids ("3,5,10-12"): exactly these, whatever their status;
  //  - runs = a filter (MLflow syntax, as `flowlab query`, e.g. "params.train.model = 'cnn'"):
  //    the matching runs, within `experiment` or `parent` when given;
  //  - else the runs of `experiment`, or the children of `parent` (a sweep), or, with neither,
  //    the runs of the newest run's experiment.
  // Except for ids, only FINISHED runs unless any_status.
  std::string runs;
  std::string experiment;
  std::optional<int64_t> parent;
  bool any_status = false;
  Agg agg = Agg::kMean;
  ErrorBar error = ErrorBar::kStd;
};

/// One aggregated point, with what `--data` writes about it.
struct PlotRow {
  std::string series;  // legend entry
  std::string x;       // x as text: the param value, the category or the step
  Stats stats;         // over the runs behind the point
  Point point;         // as drawn
  std::vector<int64_t> run_ids;
};

struct PlotData {
  // One per --y, resolved, without prefix ("eval.accuracy"); a family without its "@*"
  // ("robust_legs.accuracy", or "*.certified_accuracy" for any node).
  std::vector<std::string> y_names;
  std::string y_name;  // y_names joined by ", ": for titles, labels and file names
  // The x: "step", a param or metric without prefix, or for families their keys up to the number
  // ("accuracy@").
  std::string x_name;
  // The user's groups, then "node" when the one y is a family of any node.
  std::vector<std::string> group_names;
  bool x_is_step = false;
  bool x_is_suffix = false;               // families: x is the number after '@'
  std::vector<std::string> x_categories;  // non-empty when x's values are not all numbers
  std::vector<Series> series;             // by --y, then by group value (numerically where numbers)
  std::vector<PlotRow> rows;              // series by series, ascending x
  std::string source;                     // "experiment 'sizes'", "children of run 12", ...
  std::vector<int64_t> runs_used;         // runs that gave at least one point
  std::vector<int64_t> runs_skipped;      // selected but lacking the metric or the x param
};

/// Reads the results store `db` and builds the plot's data.
/// Throws ConfigError (exit 2) for a missing database, an unknown experiment or run, a malformed
/// filter, a name or metric family that no selected run recorded (with a did-you-mean note and the
/// names that exist), a family with --x or beside a single metric, a y given twice, and when no
/// run has both x and y.
PlotData load_plot_data(const tracking::StoreLocation& db, const PlotQuery& query);

/// True when `text` is a list of run ids and ranges rather than a filter.
bool is_run_id_list(const std::string& text);
/// "3,5,10-12" -> {3, 5, 10, 11, 12}. Throws ConfigError (key "--runs") for anything else.
std::vector<int64_t> parse_run_ids(const std::string& text);

/// Title, axis labels, legend title and a subtitle saying how points were aggregated
/// ("mean ± std over 3 runs per point · experiment 'sizes'"). Scales and size are left default.
PlotSpec make_plot_spec(const PlotData& data, const PlotQuery& query);

/// Every point with its statistics, for --data (CSV or JSON).
Table plot_table(const PlotData& data);

}  // namespace flowlab::cli
