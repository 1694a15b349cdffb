#pragma once
// Several plans as one graph: nodes with equal cache keys are merged, so work that sweep children
// share (the dataset every child reads, a model evaluated several ways) is computed once, and the
// rest runs side by side on the same flow graph.
#include <cstddef>
#include <vector>

#include "graph/plan.h"

namespace flowlab {

/// One node of one of the merged plans.
struct PlanNodeRef {
  size_t plan;  // index in the list given to merge_plans
  size_t node;  // index in that plan's nodes
};

struct MergedPlan {
  Plan plan;  // topologically ordered; settings (threads, device, seed) of the first plan
  /// merged node -> the plans' nodes it stands for, in plan order (the first computes it).
  std::vector<std::vector<PlanNodeRef>> owners;
  /// per plan: its node index -> merged node index.
  std::vector<std::vector<size_t>> merged_index;
};

/// Merges the plans (at least one). Display names stay unique: a node that some but not all plans
/// share is called "name[k]" after the first plan k (1-based) that has it, then "#2", "#3"...
MergedPlan merge_plans(const std::vector<const Plan*>& plans);

}  // namespace flowlab
