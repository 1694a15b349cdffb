#include "tracking/store_copy.h"

#include <algorithm>
#include <map>
#include <optional>

namespace flowlab::tracking {

CopyResult copy_runs(const Store& from, Store& to, const std::vector<int64_t>& ids,
                     const std::function<void(size_t, size_t)>& progress) {
  std::vector<int64_t> order;
  if (ids.empty()) {
    // Ascending ids put every parent before its children: a child is begun after its parent.
    for (const auto& r : from.list_runs(0, RunView::kAll)) order.push_back(r.id);
    std::sort(order.begin(), order.end());
  } else {
    order = from.with_descendants(ids);  // breadth first: parents before children
  }
  CopyResult result;
  std::map<int64_t, std::optional<int64_t>> new_id;  // source id -> destination id
  for (size_t i = 0; i < order.size(); ++i) {
    const RunRecord record = from.export_run(order[i]);
    std::optional<int64_t> parent;
    if (record.run.parent_id) {
      auto it = new_id.find(*record.run.parent_id);
      if (it != new_id.end()) {
        parent = it->second;
      } else if (const auto p = from.get_run(*record.run.parent_id)) {
        parent = to.find_run(p->uuid);  // a parent copied earlier, or not copied at all
      }
    }
    if (const auto id = to.import_run(record, parent)) {
      new_id[order[i]] = *id;
      ++result.copied;
      result.metric_rows += static_cast<int64_t>(record.metrics.size());
    } else {
      new_id[order[i]] = to.find_run(record.run.uuid);
      ++result.present;
    }
    if (progress) progress(i + 1, order.size());
  }
  return result;
}

}  // namespace flowlab::tracking
