#pragma once
// Runs a Plan on a oneTBB flow graph: one continue_node per planned node, an edge per input, so
// independent nodes run concurrently inside a task arena sized by the thread budget.
//
// A node is computed only when its cache entry is missing (or --no-cache), and a cached node's
// output is loaded only when a node that must be computed reads it. A node that throws fails
// alone: its dependents are skipped, independent nodes finish.
#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/op.h"
#include "graph/plan.h"

namespace flowlab {

enum class NodeStatus { kPending, kFinished, kCached, kFailed, kSkipped, kKilled };
std::string to_string(NodeStatus s);  // FINISHED, CACHED, FAILED, SKIPPED, KILLED

struct NodeOutcome {
  NodeStatus status = NodeStatus::kPending;
  double start_time = 0, end_time = 0;  // unix seconds
  std::string error;                    // failure message, or why it was skipped
};

/// Receives metrics, progress and files (RunObserver) plus node lifecycle events.
class ExecutionListener : public RunObserver {
 public:
  virtual void node_started(const PlannedNode& node) = 0;
  virtual void node_finished(const PlannedNode& node, const NodeOutcome& outcome) = 0;
};

struct ExecuteOptions {
  int threads = 1;              // the run's whole budget (cores)
  int max_concurrency = 0;      // cap on nodes running at once (--jobs); 0 = no cap
  bool read_cache = true;       // false: recompute every node (and refresh its entry)
  std::filesystem::path cache_dir;
  /// Where long-running nodes keep checkpoints (<dir>/<cache key>/); empty = no checkpoints.
  std::filesystem::path checkpoint_dir;
  const std::atomic<bool>* stop = nullptr;  // set by the Ctrl-C handler
};

struct ExecutionResult {
  std::vector<NodeOutcome> outcomes;  // by plan index
  int concurrency = 1;                // nodes allowed at once
  int threads_per_node = 1;           // intra-op threads each node was given
  bool failed = false, killed = false;
};

/// Splits `threads` between graph-level concurrency and per-node intra-op threads:
/// concurrency = min(threads, widest level of nodes to compute), threads per node =
/// threads / concurrency, so concurrency x threads_per_node <= threads.
std::pair<int, int> split_threads(const Plan& plan, const std::vector<bool>& to_compute, int threads,
                                  int max_concurrency = 0);

ExecutionResult execute(const Plan& plan, const Registry& registry, ExecutionListener& listener,
                        const ExecuteOptions& options);

}  // namespace flowlab
