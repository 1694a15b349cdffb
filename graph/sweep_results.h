#pragma once
// The `sweep_results` artifact: what a sweep's aggregate node reads — every child run's
// overrides, status, params and final metrics. Torch-free.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/artifact.h"
#include "graph/op.h"

namespace flowlab {

struct ChildResult {
  int64_t run_id = 0;
  std::string status;  // FINISHED, FAILED, KILLED
  std::vector<std::string> overrides;
  std::map<std::string, std::string> params;  // as recorded ("data.k" -> "8")
  std::map<std::string, double> metrics;      // final values, "node.key" -> value
};

struct SweepResults : Artifact {
  int64_t parent_run_id = 0;
  std::vector<ChildResult> children;

  static constexpr const char* kType = "sweep_results";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;  // sweep_results.json
  /// A content hash of everything above: the cache key of the node that supplies it, so an
  /// aggregate is computed again exactly when what it reads changed.
  std::string content_key() const;
};

/// The op of the source node an aggregate plan reads (`sweep.children`, output sweep_results):
/// its output is supplied by the runner from the database, never computed.
inline constexpr const char* kSweepChildrenOp = "sweep.children";

/// Registers the sweep_results type and the sweep.children op.
void register_sweep_results(Registry& registry);

}  // namespace flowlab
