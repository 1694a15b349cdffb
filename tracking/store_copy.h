#pragma once
// `flowlab store copy`: moving runs between stores (a laptop's SQLite file into the group's
// PostgreSQL, or back). No LibTorch here.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tracking/store.h"

namespace flowlab::tracking {

struct CopyResult {
  int64_t copied = 0;   // runs added to the destination
  int64_t present = 0;  // runs the destination already had (same uuid): left as they are
  int64_t metric_rows = 0;
};

/// Copies runs `ids` (empty: every run, deleted ones included) and every run below them from
/// `from` into `to`, parents first, each in one transaction with its params, tags, metrics,
/// summary, node executions and artifact records. Ids are issued by `to` (a child's parent_id
/// is remapped through the parent's uuid); uuids, times and statuses are kept, so copying again
/// adds nothing. `progress` (optional) is called after each run with (done, total).
CopyResult copy_runs(const Store& from, Store& to, const std::vector<int64_t>& ids = {},
                     const std::function<void(size_t, size_t)>& progress = {});

}  // namespace flowlab::tracking
