// Metric logging from several writer processes into one results store, as the tasks of a Slurm
// job array do: each process begins a run, streams rows through a MetricWriter (its own batching
// thread and connection) and finishes the run. Prints rows/s for the store and checks afterwards
// that every row arrived exactly once (counted per run and per step in SQL).
//
//   store_writers_bench --store URI [--procs 8] [--rows 100000] [--batch 2000] [--interval-ms 200]
//
// bench/run_store_bench.sh runs it against SQLite and PostgreSQL side by side.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "tracking/metric_writer.h"
#include "tracking/read_only_db.h"
#include "tracking/store.h"

using namespace flowlab::tracking;

int main(int argc, char** argv) {
  std::string uri;
  int procs = 8;
  long rows = 100000;
  size_t batch = 2000;
  int interval_ms = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--store")
      uri = argv[i + 1];
    else if (a == "--procs")
      procs = std::atoi(argv[i + 1]);
    else if (a == "--rows")
      rows = std::atol(argv[i + 1]);
    else if (a == "--batch")
      batch = static_cast<size_t>(std::atol(argv[i + 1]));
    else if (a == "--interval-ms")
      interval_ms = std::atoi(argv[i + 1]);
  }
  if (uri.empty()) {
    std::fprintf(stderr, "usage: store_writers_bench --store URI [--procs N] [--rows N]\n");
    return 2;
  }
  const StoreLocation where = StoreLocation::parse(uri);
  { Store create(where); }  // the schema first, as `flowlab sweep` does before its jobs start
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = fork();
    if (pid == 0) {
      try {
        Store store(where);
        RunStart start;
        start.experiment = "store_writers_bench";
        start.name = "writer" + std::to_string(p);
        start.pid = getpid();
        const int64_t id = store.begin_run(start);
        {
          MetricWriter writer(where, id, interval_ms, batch);
          for (long i = 0; i < rows; ++i) writer.log("train", "loss", i, 1.0 / (1.0 + i));
          writer.flush();
          if (writer.rows_written() != rows) _exit(3);
        }
        store.finish_run(id, RunStatus::kFinished);
        _exit(0);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer %d: %s\n", p, e.what());
        _exit(1);
      }
    }
    pids.push_back(pid);
  }
  int errors = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    errors += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const ReadOnlyDb db(where);
  const auto count = [&](const std::string& sql) {
    return as_int(db.execute(sql).rows.at(0).at(0));
  };
  const int64_t stored = count("SELECT COUNT(*) FROM metrics");
  const int64_t distinct =
      count("SELECT COUNT(*) FROM (SELECT DISTINCT run_id, step FROM metrics) AS d");
  const int64_t expected = static_cast<int64_t>(procs) * rows;
  std::printf(
      "%-10s %d writer processes x %ld rows: %.2f s, %.0f rows/s; %lld rows stored "
      "(%lld distinct), %lld lost, %d errors\n",
      where.is_sqlite() ? "sqlite" : "postgresql", procs, rows, seconds,
      static_cast<double>(expected) / seconds, static_cast<long long>(stored),
      static_cast<long long>(distinct), static_cast<long long>(expected - distinct), errors);
  return errors == 0 && stored == expected && distinct == expected ? 0 : 1;
}
