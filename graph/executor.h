#pragma once
// Runs a Plan on a oneTBB flow graph: one continue_node per planned node, an edge per input, so
// independent nodes run concurrently inside a task arena sized by the thread budget.
//
// A node is computed only when its cache entry is missing (or --no-cache), and a cached node's
// output is loaded only when a node that must be computed reads it. A node that throws fails
// alone: its dependents are skipped, independent nodes finish.
#include <atomic>
#include <filesystem>
#include <map>
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

/// Receives what the nodes of a plan report, with the node itself (PlannedNode::index says which):
/// lifecycle events, metrics, progress and files. Implementations must be thread-safe:
/// independent nodes run concurrently.
class ExecutionListener {
 public:
  virtual ~ExecutionListener() = default;
  virtual void node_started(const PlannedNode& node) = 0;
  virtual void node_finished(const PlannedNode& node, const NodeOutcome& outcome) = 0;
  virtual void metric(const PlannedNode& node, const std::string& key, int64_t step,
                      double value) = 0;
  virtual void progress(const PlannedNode& node, double fraction, const std::string& message) = 0;
  virtual void artifact_file(const PlannedNode& node, const std::filesystem::path& path,
                             const std::string& kind) = 0;
};

struct ExecuteOptions {
  /// The run's thread budget (cores). Nodes run side by side while the threads they were planned
  /// with fit in it; a node planned with more threads than the budget runs alone. The budget
  /// never changes a node's own threads, so results do not depend on it.
  int threads = 1;
  int max_concurrency = 0;  // cap on nodes running at once (--jobs); 0 = no cap
  bool read_cache = true;   // false: recompute every node (and refresh its entry)
  std::filesystem::path cache_dir;
  /// Where long-running nodes keep checkpoints (<dir>/<cache key>/); empty = no checkpoints.
  std::filesystem::path checkpoint_dir;
  const std::atomic<bool>* stop = nullptr;  // set by the Ctrl-C handler
  /// Outputs the caller supplies for some nodes (by plan index): such a node is neither computed
  /// nor cached (a sweep's child results, read from the database, for its aggregates).
  std::map<size_t, ArtifactPtr> supplied;
};

struct ExecutionResult {
  std::vector<NodeOutcome> outcomes;  // by plan index
  int concurrency = 1;                // most nodes allowed at once
  int budget = 1;                     // the thread budget they shared
  bool failed = false, killed = false;
};

/// Nodes allowed at once: min(budget, --jobs cap, nodes to compute), at least 1. Each node then
/// also needs its planned threads (at least one slot) free in the budget to start.
int max_concurrency(const Plan& plan, const std::vector<bool>& to_compute, int threads,
                    int max_concurrency = 0);

ExecutionResult execute(const Plan& plan, const Registry& registry, ExecutionListener& listener,
                        const ExecuteOptions& options);

}  // namespace flowlab
