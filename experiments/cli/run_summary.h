#pragma once
// What `flowlab run`, `sweep` and `resume` print when they end: a run's nodes and final metrics,
// or a sweep's children (a row each, or counts for a large sweep) and its aggregates.
#include <cstdint>
#include <ostream>
#include <vector>

#include "experiments/cli/execution.h"

namespace flowlab::cli {

/// The run's nodes (status, seconds) and its step-0 final metrics (series such as the loss and
/// breakdowns such as class_accuracy.3 are left to `flowlab show`).
void print_single_summary(std::ostream& out, const tracking::Store& store, const Child& child,
                          const BatchResult& result);

/// Above this many children the sweep's summary gives counts instead of a row per child.
inline constexpr size_t kSweepTableMaxRows = 100;

/// One row per child with the headline metrics of its sink nodes (OpDef::headline_metrics), the
/// failures, and what the aggregates recorded on the parent.
void print_sweep_summary(std::ostream& out, const tracking::Store& store, int64_t parent,
                         const std::vector<Child>& children, const BatchResult& result);

}  // namespace flowlab::cli
