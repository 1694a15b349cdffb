// Metric rows per second through MetricWriter (several threads logging into one writer, which
// batches them on its own thread), side by side with the two textbook ways of inserting the same
// rows with raw sqlite3: one transaction per row, and one big transaction with a prepared
// statement. Each method writes into its own fresh database with flowlab's schema and pragmas
// (WAL, synchronous=NORMAL), so the table, its index and the journal settings are the same.
//
//   metric_writer_bench [--rows N] [--threads T] [--per-row-rows N] [--batch N]
//                       [--interval-ms N] [--dir DIR]
//
// MetricWriter does more per batch than the raw inserts: it also upserts latest_metrics (one
// row per series per batch) and refreshes the run's heartbeat.
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "tracking/metric_writer.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::tracking::MetricWriter;
using flowlab::tracking::RunStart;
using flowlab::tracking::Store;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

// A fresh database with flowlab's schema and one run; returns the run id.
int64_t fresh_db(const fs::path& path) {
  fs::remove(path);
  fs::remove(path.string() + "-wal");
  fs::remove(path.string() + "-shm");
  Store store(path);
  RunStart start;
  start.experiment = "bench";
  start.name = path.stem().string();
  return store.begin_run(start);
}

struct Result {
  std::string method;
  int64_t rows = 0;
  double seconds = 0;
  double rate() const { return rows / seconds; }
};

Result bench_writer(const fs::path& dir, int64_t rows, int threads, size_t batch, int interval_ms) {
  const fs::path db = dir / "writer.db";
  const int64_t run = fresh_db(db);
  double log_seconds = 0;
  const auto t0 = Clock::now();
  {
    MetricWriter writer(db, run, interval_ms, batch);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const std::string key = "k" + std::to_string(t);
        const int64_t n = rows / threads + (t < rows % threads ? 1 : 0);
        for (int64_t step = 0; step < n; ++step) writer.log("bench", key, step, 0.5 * step);
      });
    for (auto& th : pool) th.join();
    log_seconds = seconds_since(t0);
    writer.flush();
    if (writer.rows_written() != rows)
      throw std::runtime_error("MetricWriter wrote " + std::to_string(writer.rows_written()));
  }
  const double total = seconds_since(t0);
  std::printf(
      "  MetricWriter: %d threads finished log() calls after %.3f s (%.0f rows/s "
      "accepted); everything committed after %.3f s\n",
      threads, log_seconds, rows / log_seconds, total);
  return {
      "MetricWriter (" + std::to_string(threads) + " threads, batch " + std::to_string(batch) + ")",
      rows, total};
}

// Raw sqlite3 with the same pragmas the Store sets.
sqlite3* open_raw(const fs::path& path) {
  sqlite3* db = nullptr;
  check(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), db, "open");
  sqlite3_busy_timeout(db, 30'000);
  check(sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                     "PRAGMA foreign_keys=ON",
                     nullptr, nullptr, nullptr),
        db, "pragmas");
  return db;
}

Result bench_raw(const fs::path& dir, int64_t rows, bool one_transaction) {
  const fs::path path = dir / (one_transaction ? "raw_one_txn.db" : "raw_per_row.db");
  const int64_t run = fresh_db(path);
  sqlite3* db = open_raw(path);
  sqlite3_stmt* insert = nullptr;
  check(sqlite3_prepare_v2(db,
                           "INSERT INTO metrics(run_id, node, key, step, value, timestamp) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &insert, nullptr),
        db, "prepare");
  const auto t0 = Clock::now();
  if (one_transaction)
    check(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (int64_t i = 0; i < rows; ++i) {
    sqlite3_bind_int64(insert, 1, run);
    sqlite3_bind_text(insert, 2, "bench", -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 3, "k0", -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 4, i);
    sqlite3_bind_double(insert, 5, 0.5 * i);
    sqlite3_bind_double(insert, 6, now);
    check(sqlite3_step(insert), db, "insert");  // outside BEGIN, each step is a transaction
    sqlite3_reset(insert);
  }
  if (one_transaction) check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  const double seconds = seconds_since(t0);
  sqlite3_finalize(insert);
  sqlite3_close_v2(db);
  return {one_transaction ? "raw sqlite3, one transaction, prepared"
                          : "raw sqlite3, one transaction per row",
          rows, seconds};
}

int64_t arg_int(int& i, int argc, char** argv) {
  if (i + 1 >= argc) throw std::runtime_error(std::string(argv[i]) + " needs a value");
  return std::stoll(argv[++i]);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int64_t rows = 1'000'000;
    int64_t per_row_rows = 20'000;  // one fsync-free commit per row is slow: fewer rows suffice
    int threads = 4;
    size_t batch = 2000;
    int interval_ms = 200;
    fs::path dir;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--rows")
        rows = arg_int(i, argc, argv);
      else if (a == "--per-row-rows")
        per_row_rows = arg_int(i, argc, argv);
      else if (a == "--threads")
        threads = static_cast<int>(arg_int(i, argc, argv));
      else if (a == "--batch")
        batch = static_cast<size_t>(arg_int(i, argc, argv));
      else if (a == "--interval-ms")
        interval_ms = static_cast<int>(arg_int(i, argc, argv));
      else if (a == "--dir" && i + 1 < argc)
        dir = argv[++i];
      else
        throw std::runtime_error("unknown argument " + a + " (see the comment at the top)");
    }
    bool own_dir = false;
    if (dir.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "flowlab-bench-XXXXXX").string();
      if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
      dir = tmpl;
      own_dir = true;
    }
    fs::create_directories(dir);
    std::printf("metric_writer_bench: databases in %s (SQLite %s)\n", dir.c_str(),
                sqlite3_libversion());

    std::vector<Result> results;
    results.push_back(bench_raw(dir, per_row_rows, false));
    results.push_back(bench_raw(dir, rows, true));
    results.push_back(bench_writer(dir, rows, threads, batch, interval_ms));

    const double base = results[0].rate();
    std::printf("\n%-48s %10s %9s %12s %10s\n", "method", "rows", "seconds", "rows/s",
                "vs per-row");
    for (const auto& r : results)
      std::printf("%-48s %10lld %9.3f %12.0f %9.1fx\n", r.method.c_str(),
                  static_cast<long long>(r.rows), r.seconds, r.rate(), r.rate() / base);
    std::printf("MetricWriter / one big transaction: %.2f\n",
                results[2].rate() / results[1].rate());
    if (own_dir) fs::remove_all(dir);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metric_writer_bench: %s\n", e.what());
    return 1;
  }
}
