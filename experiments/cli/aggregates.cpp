#include "experiments/cli/aggregates.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "experiments/cli/execution.h"
#include "graph/compose.h"
#include "graph/sweep_results.h"
#include "tracking/reader.h"

namespace flowlab::cli {
using tracking::RunStatus;

Plan plan_aggregates(const YAML::Node& block, const std::string& where, const Registry& registry,
                     int threads) {
  if (!block.IsDefined() || block.IsNull()) return {};
  if (!block.IsMap())
    throw ConfigError(SourceLocation{where}, "sweep.aggregate",
                      "expected a mapping of node names to {op, params}");
  YAML::Node spec;
  spec["nodes"][kChildrenNode]["op"] = kSweepChildrenOp;
  for (const auto& kv : block) {
    const std::string name = kv.first.as<std::string>();
    if (name == kChildrenNode)
      throw ConfigError(SourceLocation{where}, "sweep.aggregate." + name,
                        "'children' is the sweep's child runs; name the aggregate otherwise");
    YAML::Node node = YAML::Clone(kv.second);
    // An op with a sweep_results port reads the children unless told otherwise.
    if (node.IsMap() && node["op"] && node["op"].IsScalar() && !node["inputs"])
      if (const OpDef* op = registry.find(node["op"].Scalar()))
        for (const auto& port : op->inputs)
          if (port.type == SweepResults::kType) node["inputs"][port.name] = kChildrenNode;
    spec["nodes"][name] = node;
  }
  if (threads > 0) spec["threads"] = threads;
  YAML::Emitter emitter;
  emitter << spec;
  ComposedSpec composed = compose_text(emitter.c_str(), where, "", {});
  return make_plan(composed, registry);
}

namespace {

// Every child's status, overrides, params and final metrics, in a few queries however large the
// sweep (through the documented views).
std::shared_ptr<SweepResults> collect_children(const tracking::StoreLocation& db, int64_t parent) {
  tracking::RunReader reader(db);
  auto results = std::make_shared<SweepResults>();
  results->parent_run_id = parent;
  auto children = reader.children(parent);
  std::vector<int64_t> ids;
  for (const auto& c : children) ids.push_back(c.id);
  auto params = reader.params(ids);
  auto metrics = reader.final_metrics(ids);
  for (const auto& c : children) {
    ChildResult r;
    r.run_id = c.id;
    r.status = tracking::to_string(c.status);
    try {
      for (const auto& o : nlohmann::json::parse(c.overrides)) r.overrides.push_back(o);
    } catch (const nlohmann::json::exception&) {
    }
    r.params = params[c.id];
    for (const auto& m : metrics[c.id]) r.metrics[m.node + "." + m.key] = m.value;
    results->children.push_back(std::move(r));
  }
  return results;
}

std::string sweep_error_summary(const tracking::Store& store, int64_t parent) {
  int failed = 0, killed = 0;
  for (const auto& c : store.children(parent))
    failed += c.status == RunStatus::kFailed, killed += c.status == RunStatus::kKilled;
  if (!failed && !killed) return "";
  return fmt::format("{} child run(s) failed, {} interrupted", failed, killed);
}

}  // namespace

std::string run_aggregates(const Plan& aggregates, int64_t parent, const RunOptions& options,
                           const Registry& registry, tracking::Store& store, std::ostream& err,
                           const std::atomic<bool>& stop) {
  if (aggregates.nodes.empty()) return "";
  try {
    auto results = collect_children(store_of(options), parent);
    Plan plan = aggregates;
    const size_t source = plan.find(kChildrenNode)->index;
    // Keyed by what they read: unchanged children (a resume that found nothing to redo) are
    // served from the cache, changed ones recompute the aggregates.
    set_key(plan, source, results->content_key());
    // The parent's end is recorded by the caller (finish_sweep), from its children and these.
    GraphRun run = run_graph({&plan}, {parent}, options, registry, store, {}, err, stop,
                             /*finish_runs=*/false, [&](MergedPlan& merged, ExecuteOptions& exec) {
                               exec.supplied[merged.merged_index[0][source]] = results;
                             });
    std::string failures;
    for (const auto& o : run.exec.outcomes)
      if (o.status == NodeStatus::kFailed) failures += (failures.empty() ? "" : "\n") + o.error;
    return failures;
  } catch (const std::exception& e) {
    // Whatever went wrong, the caller records it on the parent: it must not stay RUNNING.
    return std::string("aggregate nodes could not run: ") + e.what();
  }
}

std::string rerun_recorded_aggregates(const tracking::RunRow& parent, const RunOptions& options,
                                      const Registry& registry, tracking::Store& store,
                                      std::ostream& err, const std::atomic<bool>& stop) {
  try {
    YAML::Node summary = YAML::Load(parent.composed_yaml);
    int threads = summary["threads"] ? summary["threads"].as<int>() : 0;
    Plan aggregates = plan_aggregates(
        summary["aggregate"], fmt::format("run {} (recorded sweep)", parent.id), registry, threads);
    std::string errors = run_aggregates(aggregates, parent.id, options, registry, store, err, stop);
    return stop.load() ? "" : errors;
  } catch (const std::exception& e) {
    return std::string("aggregate nodes could not run: ") + e.what();
  }
}

RunStatus sweep_status(const tracking::Store& store, int64_t parent) {
  std::vector<RunStatus> statuses;
  for (const auto& c : store.children(parent)) statuses.push_back(c.status);
  int code = exit_code_of(statuses);
  return code == 130 ? RunStatus::kKilled : code == 1 ? RunStatus::kFailed : RunStatus::kFinished;
}

void finish_sweep(tracking::Store& store, int64_t parent, const std::string& aggregate_errors,
                  bool interrupted) {
  RunStatus status = sweep_status(store, parent);
  std::string error = sweep_error_summary(store, parent);
  if (interrupted && status == RunStatus::kFinished) {
    store.finish_run(parent, RunStatus::kKilled, "interrupted");  // resume runs the aggregates
    return;
  }
  if (!aggregate_errors.empty()) {
    if (status == RunStatus::kFinished) status = RunStatus::kFailed;
    error += (error.empty() ? "" : "\n") + aggregate_errors;
  }
  store.finish_run(parent, status, error);
}

}  // namespace flowlab::cli
