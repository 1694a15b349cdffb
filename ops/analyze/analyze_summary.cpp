// analyze.summary: a sweep aggregate. Groups the children by chosen params (say train.model) and
// records mean, std, sem, min, max and counts of their final metrics on the parent run, so repeats
// (seeds, cross-validation folds) are a sweep axis plus this node.
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/text.h"
#include "ops/analyze/summary.h"
#include "ops/metrics_table.h"

namespace flowlab::ops::analyze {
namespace {

// Shortest text that reads back as the same double; "" for an undefined statistic (NaN), which
// spreadsheets and pandas read as missing.
std::string csv_number(double v) { return std::isnan(v) ? "" : fmt::format("{}", v); }

ArtifactPtr run_summary(OpContext& ctx) {
  const Params& p = ctx.params();
  const std::vector<std::string> by = p.get_string_list("by");
  const std::vector<std::string> patterns = p.get_string_list("metrics");
  auto results = ctx.input<SweepResults>("runs");
  const SweepSummary summary = summarize_sweep(results->children, by, patterns);

  // On the parent: "<group>/<metric>.<stat>" ("<metric>.<stat>" with no `by`), and
  // "<group>/failed". Undefined statistics (NaN) are left out rather than stored as NULL.
  auto table = std::make_shared<MetricsTable>();
  auto log = [&](const std::string& key, double value) {
    if (std::isnan(value)) return;
    table->values[key] = value;
    ctx.log_metric(key, value);
  };
  for (const auto& g : summary.groups) {
    const std::string label = group_label(summary.by, g.key);
    const std::string prefix = label.empty() ? "" : label + "/";
    for (const auto& s : g.metrics) {
      log(prefix + s.metric + ".mean", s.mean);
      log(prefix + s.metric + ".std", s.std);
      log(prefix + s.metric + ".sem", s.sem);
      log(prefix + s.metric + ".min", s.min);
      log(prefix + s.metric + ".max", s.max);
      log(prefix + s.metric + ".n", s.n);
    }
    log(prefix + "failed", g.failed);
  }

  // summary.csv: one row per group and metric.
  const auto csv_path = ctx.output_dir() / "summary.csv";
  std::ostringstream csv;
  for (const auto& param : summary.by) csv << csv_field(param) << ",";
  csv << "metric,n,missing,failed,mean,std,sem,min,max\n";
  for (const auto& g : summary.groups)
    for (const auto& s : g.metrics) {
      for (const auto& value : g.key) csv << csv_field(value) << ",";
      csv << fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(s.metric), s.n, s.missing,
                         g.failed, csv_number(s.mean), csv_number(s.std), csv_number(s.sem),
                         csv_number(s.min), csv_number(s.max));
    }
  write_text_file(csv_path, csv.str());
  ctx.add_file(csv_path, "summary");

  // summary.json: the same, nested by group (NaN becomes null), in the table's order.
  nlohmann::ordered_json json;
  json["by"] = summary.by;
  json["metrics"] = summary.metrics;
  json["groups"] = nlohmann::ordered_json::array();
  for (const auto& g : summary.groups) {
    nlohmann::ordered_json group;
    group["params"] = nlohmann::ordered_json::object();
    for (size_t i = 0; i < summary.by.size(); ++i) group["params"][summary.by[i]] = g.key[i];
    group["children"] = g.children;
    group["failed"] = g.failed;
    group["metrics"] = nlohmann::ordered_json::object();
    for (const auto& s : g.metrics)
      group["metrics"][s.metric] = {{"n", s.n},     {"missing", s.missing}, {"mean", s.mean},
                                    {"std", s.std}, {"sem", s.sem},         {"min", s.min},
                                    {"max", s.max}};
    json["groups"].push_back(std::move(group));
  }
  const auto json_path = ctx.output_dir() / "summary.json";
  write_text_file(json_path, json.dump(2) + "\n");
  ctx.add_file(json_path, "summary");
  return table;
}

}  // namespace

void register_summary(Registry& r) {
  OpDef op;
  op.name = "analyze.summary";
  op.summary =
      "sweep aggregate: mean, std, sem, min, max and count of the children's final metrics, "
      "grouped by chosen params (repeats such as seeds or folds as a sweep axis)";
  op.version = 1;
  op.params = {
      string_list_param(
          "by", {},
          "child params to group by (e.g. [train.model, data.k]); empty: all children "
          "in one group. A group's metrics are named <param>=<value>[,...]/<metric>.<stat>"),
      string_list_param(
          "metrics", {},
          "child metrics (node.key) to summarize, names or globs (eval.*); empty: every "
          "final metric of a finished child; a pattern no finished child matches is an "
          "error. Per group and metric: mean, std (sample, n - 1), sem = std / sqrt(n), "
          "min, max and n (finished children with a finite value; std and sem need "
          "n >= 2 and are not logged below); <group>/failed counts children not "
          "FINISHED, whose metrics are not used"),
  };

  op.inputs = {{"runs", SweepResults::kType, "the sweep's child runs (connected automatically)"}};
  op.output_type = MetricsTable::kType;
  op.cache_output = false;
  op.run = run_summary;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::analyze
