#pragma once
// Batched, background metric logging into a results store. No LibTorch here.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tracking/connection.h"

namespace flowlab::tracking {

struct MetricWriterOptions {
  int flush_interval_ms = 200;  // a batch goes out at least this often...
  size_t max_batch = 2000;      // ...or as soon as this many rows wait
  /// How long a lost server (StoreUnavailable) is retried, with backoff from 50 ms to 2 s,
  /// before the writer gives up. $FLOWLAB_STORE_RETRY_S overrides it.
  double retry_seconds = 60;
  /// Where rows that could not be written go when the writer gives up (spool.h); empty: the
  /// system's temporary directory / flowlab-spool.
  std::filesystem::path spool_dir;
};

/// Batches metric rows for one run and writes them from a background thread (every
/// `flush_interval_ms` or `max_batch` rows, whichever first) through its own connection.
/// log() never touches the store. flush() waits until everything logged so far is written;
/// the destructor flushes. Thread-safe: several node threads may log at once.
///
/// Every batch carries a token (this writer's id, a sequence number) that is committed with its
/// rows, so a batch is resent after a lost connection without being written twice. When the
/// server stays away past retry_seconds, the batch and every later one are appended to a spool
/// file instead, and flush() (or the next log()) throws StoreError naming the file, which
/// `flowlab store import` loads once the server is back. A batch that fails for another reason
/// (a constraint, a full disk) is not resent but spooled too, and reported the same way: a row
/// is never silently dropped.
class MetricWriter {
 public:
  MetricWriter(const StoreLocation& store, int64_t run_id, int flush_interval_ms = 200,
               size_t max_batch = 2000);
  MetricWriter(const StoreLocation& store, int64_t run_id, const MetricWriterOptions& options);
  ~MetricWriter();
  void log(const std::string& node, const std::string& key, int64_t step, double value);
  /// The same for another run: one writer (one thread, one connection) can serve every child
  /// of a sweep.
  void log_for(int64_t run_id, const std::string& node, const std::string& key, int64_t step,
               double value);
  void flush();
  /// Rows committed to the store so far (not counting spooled ones).
  int64_t rows_written() const;
  /// Rows written to the spool file because the store could not be reached.
  int64_t rows_spooled() const;
  /// Times a lost connection was retried.
  int64_t retries() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlab::tracking
