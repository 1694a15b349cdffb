#include "experiments/cli/run_summary.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "experiments/cli/table.h"

namespace flowlab::cli {
using tracking::RunStatus;

namespace {

// A sink node's headline metrics: those its op names (patterns allowed), else its step-0 metrics
// without '.' or '@' in the key. At most six in all: tables must stay readable.
std::vector<tracking::MetricRow> headline_metrics(const tracking::Store& store, const Child& c) {
  std::map<std::string, const OpDef*> sinks;
  for (const auto& n : c.plan.nodes)
    if (n.consumers.empty()) sinks[n.name] = n.op;
  auto final = store.final_metrics(c.run_id);
  std::vector<tracking::MetricRow> out;
  for (const auto& n : c.plan.nodes) {
    if (!n.consumers.empty()) continue;
    const auto& wanted = n.op->headline_metrics;
    if (wanted.empty()) {
      for (const auto& m : final)
        if (m.node == n.name && m.step == 0 && m.key.find_first_of(".@") == std::string::npos)
          out.push_back(m);
      continue;
    }
    for (const auto& pattern : wanted)
      for (const auto& m : final)
        if (m.node == n.name && fnmatch(pattern.c_str(), m.key.c_str(), 0) == 0) out.push_back(m);
  }
  if (out.size() > 6) out.resize(6);
  return out;
}

}  // namespace

void print_single_summary(std::ostream& out, const tracking::Store& store, const Child& child,
                          const BatchResult& result) {
  auto run = store.get_run(child.run_id);
  out << fmt::format(
      "\nrun {} {} in {:.1f} s  (experiment {}; up to {} node(s) at once within {} thread(s))\n",
      child.run_id, tracking::to_string(run->status), result.seconds, child.plan.experiment,
      result.exec.concurrency, result.exec.budget);
  Table nodes{
      {"node", "op", "threads", "status", "seconds"}, {}, {false, false, true, false, true}};
  for (size_t k = 0; k < child.plan.nodes.size(); ++k) {
    const auto& node = child.plan.nodes[k];
    const auto& o = result.outcomes[0][k];
    nodes.add_row({node.name, node.op->name, node.threads > 0 ? std::to_string(node.threads) : "-",
                   to_string(o.status), fmt::format("{:.2f}", o.end_time - o.start_time)});
  }
  print(nodes, Format::kTable, out);
  Table metrics{{"node", "metric", "value"}, {}, {false, false, true}};
  for (const auto& m : store.final_metrics(child.run_id))
    if (m.step == 0 && m.key.find('.') == std::string::npos)
      metrics.add_row({m.node, m.key, format_number(m.value)});
  if (!metrics.rows.empty()) {
    out << "\n";
    print(metrics, Format::kTable, out);
  }
}

void print_sweep_summary(std::ostream& out, const tracking::Store& store, int64_t parent,
                         const std::vector<Child>& children, const BatchResult& result) {
  // Columns: the union of the children's headline metrics, in first-seen order. Read only when the
  // table is printed (a query per child: thousands of them for a large sweep).
  const bool with_table = children.size() <= kSweepTableMaxRows;
  std::vector<std::string> keys;
  std::vector<std::map<std::string, double>> values(children.size());
  for (size_t c = 0; with_table && c < children.size(); ++c)
    for (const auto& m : headline_metrics(store, children[c])) {
      std::string k = m.node + "." + m.key;
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      values[c][k] = m.value;
    }
  Table t{{"run", "overrides", "status"}, {}, {true, false, false}};
  for (const auto& k : keys) t.columns.push_back(k), t.numeric.push_back(true);
  for (size_t c = 0; with_table && c < children.size(); ++c) {
    std::string axes;
    for (const auto& a : children[c].axes) axes += (axes.empty() ? "" : " ") + a;
    std::vector<std::string> row{std::to_string(children[c].run_id), axes,
                                 tracking::to_string(result.status[c])};
    for (const auto& k : keys) row.push_back(values[c].count(k) ? format_number(values[c][k]) : "");
    t.add_row(row);
  }
  size_t planned = 0;
  for (const auto& c : children) planned += c.plan.nodes.size();
  auto parent_run = store.get_run(parent);
  out << fmt::format(
      "\nsweep {} {}: {} children in {:.1f} s  (up to {} node(s) at once within {} thread(s); "
      "{} distinct nodes for {} planned)\n",
      parent, tracking::to_string(parent_run->status), children.size(), result.seconds,
      result.exec.concurrency, result.exec.budget, result.exec.outcomes.size(), planned);
  if (with_table) {
    print(t, Format::kTable, out);
  } else {
    // Thousands of rows help no one on a terminal: counts here, the rows one query away.
    std::vector<std::string> statuses;
    for (size_t c = 0; c < children.size(); ++c)
      statuses.push_back(tracking::to_string(result.status[c]));
    out << fmt::format("children: {}  {}\n", children_counts(statuses),
                       children_query_hint(parent));
  }
  size_t failures_shown = 0;
  for (size_t c = 0; c < children.size(); ++c)
    if (!result.errors[c].empty() && result.status[c] == RunStatus::kFailed &&
        failures_shown++ < 20)
      out << fmt::format("run {}: {}\n", children[c].run_id, result.errors[c]);
  if (failures_shown > 20)
    out << fmt::format("... and {} more failed children\n", failures_shown - 20);

  // What the sweep's aggregate nodes recorded on the parent: their metrics and files.
  Table aggregate{{"node", "metric", "value"}, {}, {false, false, true}};
  for (const auto& m : store.final_metrics(parent))
    aggregate.add_row({m.node, m.key, format_number(m.value)});
  if (!aggregate.rows.empty()) {
    out << fmt::format("\naggregates (recorded on run {}):\n", parent);
    print(aggregate, Format::kTable, out);
    for (const auto& a : store.artifacts(parent)) out << fmt::format("  {}  {}\n", a.kind, a.path);
  }
}

}  // namespace flowlab::cli
