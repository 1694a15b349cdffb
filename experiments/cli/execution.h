#pragma once
// Executing recorded runs: their plans merged into one flow graph, every event routed to the runs
// each merged node stands for (metrics through one batched writer, node records, artifacts,
// progress lines), heartbeats kept fresh, and each run's final status recorded.
#include <atomic>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/cli/child.h"
#include "graph/executor.h"
#include "graph/merge.h"

namespace flowlab::cli {

/// The thread budget: --threads, else the spec's `threads:`, else (auto) the machine's cores.
int resolve_threads(const RunOptions& options, const Plan& plan);

struct GraphRun {
  MergedPlan merged;
  ExecutionResult exec;
  std::vector<tracking::RunStatus> status;  // per plan: how its nodes ended
  std::vector<std::string> errors;          // per plan: its failed nodes' messages
  double seconds = 0;
};

/// Runs `plans` as one graph; plan i reports to run `run_ids[i]`. With `finish_runs`, each run is
/// recorded as ended (FINISHED, FAILED or KILLED, with its own end time) as soon as its own nodes
/// have. `prepare` may adjust the options (outputs supplied for some merged nodes). Throws
/// RunError (after marking every run FAILED) only if the executor itself failed.
GraphRun run_graph(const std::vector<const Plan*>& plans, const std::vector<int64_t>& run_ids,
                   const RunOptions& options, const Registry& registry, tracking::Store& store,
                   std::vector<int64_t> heartbeat_ids, std::ostream& err,
                   const std::atomic<bool>& stop, bool finish_runs,
                   const std::function<void(MergedPlan&, ExecuteOptions&)>& prepare = {});

struct BatchResult {
  ExecutionResult exec;
  std::vector<std::vector<NodeOutcome>> outcomes;  // per child, per node of its own plan
  std::vector<tracking::RunStatus> status;         // per child
  std::vector<std::string> errors;                 // per child
  double seconds = 0;
};

/// Executes the children (already recorded as RUNNING) as one graph and records how each ended.
BatchResult execute_children(std::vector<Child>& children, const RunOptions& options,
                             const Registry& registry, tracking::Store& store,
                             std::vector<int64_t> heartbeat_ids, std::ostream& err,
                             const std::atomic<bool>& stop);

/// 130 if any run was killed, else 1 if any failed, else 0.
int exit_code_of(const std::vector<tracking::RunStatus>& statuses);

}  // namespace flowlab::cli
