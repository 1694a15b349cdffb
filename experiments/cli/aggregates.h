#pragma once
// A sweep's aggregate nodes (`sweep: {aggregate: {name: {op, params}}}`): ordinary typed nodes of
// a small plan whose source node, `children`, is the sweep's child runs read from the database
// (type sweep_results). They run through the same executor as every node, within the spec's
// thread budget, are cached by what they read, and record their metrics and files on the parent.
#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "experiments/cli/runner.h"
#include "graph/plan.h"
#include "tracking/store.h"

namespace flowlab::cli {

/// The name of the source node in an aggregate plan.
inline constexpr const char* kChildrenNode = "children";

/// Validates the aggregate block like any nodes (unknown op or param, wrong types, ports) before
/// anything runs. A node that does not name its `runs` input reads `children`. Empty plan for an
/// absent block. `threads`: the sweep spec's budget (0 = auto).
Plan plan_aggregates(const YAML::Node& block, const std::string& where, const Registry& registry,
                     int threads);

/// Runs the aggregates on parent run `parent` (its children as recorded now). Returns the
/// failures ("" when all finished).
std::string run_aggregates(const Plan& aggregates, int64_t parent, const RunOptions& options,
                           const Registry& registry, tracking::Store& store, std::ostream& err,
                           const std::atomic<bool>& stop);

/// Re-runs the aggregates recorded with a sweep (on resume). Failures, including an aggregate op
/// that no longer validates, come back as text so the parent never stays RUNNING; an interrupt
/// leaves no error, so the parent ends KILLED and a later resume runs them again.
std::string rerun_recorded_aggregates(const tracking::RunRow& parent, const RunOptions& options,
                                      const Registry& registry, tracking::Store& store,
                                      std::ostream& err, const std::atomic<bool>& stop);

/// The parent's status from its children's: FINISHED, FAILED or KILLED.
tracking::RunStatus sweep_status(const tracking::Store& store, int64_t parent);

/// Records the parent's final status: its children's, FAILED when an aggregate failed, KILLED when
/// interrupted before the aggregates ran (resume runs them).
void finish_sweep(tracking::Store& store, int64_t parent, const std::string& aggregate_errors,
                  bool interrupted = false);

}  // namespace flowlab::cli
