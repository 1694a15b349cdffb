#pragma once
// Spool files: metric batches a MetricWriter could not deliver because the store's server was
// away, kept on local disk until `flowlab store import` loads them. One JSON object per line:
//   {"store": "<URI, password hidden>", "run_id": N, "writer": "<hex>", "seq": N,
//    "rows": [[node, key, step, "value", timestamp], ...]}
// The value is text ("0.25", "inf", "nan") because JSON has no infinities. Loading a batch goes
// through Store::log_metric_batch with the batch's own (writer, seq), so importing a file twice,
// or a batch that did reach the server after all, adds nothing. No LibTorch here.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tracking/store.h"

namespace flowlab::tracking {

struct SpooledBatch {
  std::string store;  // where the batch was headed
  int64_t run_id = 0;
  std::string writer;
  int64_t seq = 0;
  std::vector<MetricRow> rows;
};

/// Appends one batch as one line (and fsyncs it). Throws StoreError when it cannot.
void append_to_spool(const std::filesystem::path& file, const SpooledBatch& batch);

/// Every batch in `file`; throws StoreError naming the file and line of a malformed one.
std::vector<SpooledBatch> read_spool(const std::filesystem::path& file);

struct ImportResult {
  int64_t batches = 0, rows = 0;  // written now
  int64_t skipped_batches = 0;    // already in the store
};

/// Loads a spool file into `store` (the one it was headed for, or any holding the same run
/// ids). Throws StoreError when a batch's run is not in the store.
ImportResult import_spool(Store& store, const std::filesystem::path& file);

}  // namespace flowlab::tracking
