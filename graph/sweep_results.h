#pragma once
// The `sweep_results` artifact: what a sweep's aggregate node reads — every child run's
// overrides, status, params and final metrics. Torch-free.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/artifact.h"

namespace flowlab {

struct ChildResult {
  int64_t run_id = 0;
  std::string status;                         // FINISHED, FAILED, KILLED
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
};

}  // namespace flowlab
