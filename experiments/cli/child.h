#pragma once
// One run's worth of work inside the runner: its overrides, composed spec, plan and run id. A
// `flowlab run` has one child; a sweep has one per point.
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/cli/runner.h"
#include "graph/compose.h"
#include "graph/plan.h"
#include "tracking/store.h"

namespace flowlab::cli {

struct Child {
  std::vector<std::string> overrides;  // every override of this child
  std::vector<std::string> axes;       // the sweep's share of them, for display
  ComposedSpec spec;
  Plan plan;
  int64_t run_id = 0;
};

/// Composes and validates the spec with `overrides` (ConfigError on any mistake).
Child compose_child(const RunOptions& options, const Registry& registry,
                    std::vector<std::string> overrides);

/// Rebuilds a recorded run from its composed spec: no config files are read, so a resumed run
/// computes exactly what was recorded even if configs/ changed since.
Child child_from_record(const tracking::RunRow& run, const Registry& registry);

}  // namespace flowlab::cli
