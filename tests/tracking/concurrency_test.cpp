// Several writer processes sharing one results store (a SQLite file, or a PostgreSQL server), as a
// sweep with worker processes would:
// every process begins and finishes runs and streams thousands of metrics through MetricWriter
// while another process queries. Nothing may fail with "database is locked" and the final counts
// must be exact.
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.h"
#include "tests/support/store_backends.h"
#include "tests/support/temp_dir.h"
#include "tracking/metric_writer.h"
#include "tracking/query.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using namespace flowlab::testing;
using namespace flowlab::tracking;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tracking_concurrency)

BOOST_DATA_TEST_CASE(writer_processes_share_one_database,
                     boost::unit_test::data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  { Store create(db); }  // schema first, as `flowlab sweep` does before starting workers

  constexpr int kProcs = 6;        // writer processes
  constexpr int kRunsPerProc = 3;  // begin_run .. finish_run, one after the other
  constexpr int kThreads = 2;      // threads logging into one MetricWriter
  constexpr int kSteps = 2000;     // rows per thread per run
  constexpr int kRowsPerRun = kThreads * kSteps;

  Barrier barrier;
  std::vector<pid_t> writers;
  for (int p = 0; p < kProcs; ++p) {
    writers.push_back(fork_child(
        [&, p] {
          barrier.wait();
          Store store(db);
          for (int r = 0; r < kRunsPerProc; ++r) {
            RunStart start;
            start.experiment = "sweep";
            start.name = "p" + std::to_string(p) + "r" + std::to_string(r);
            start.pid = getpid();
            const int64_t id = store.begin_run(start);
            store.log_params(id, {{"proc", std::to_string(p)}, {"rep", std::to_string(r)}});
            store.set_tag(id, "worker", std::to_string(p));
            {
              // A short interval and small batches: many small write transactions interleaving
              // with the other processes' transactions.
              MetricWriter writer(db, id, 2, 200);
              std::vector<std::thread> threads;
              for (int t = 0; t < kThreads; ++t)
                threads.emplace_back([&, t] {
                  const std::string node = "t" + std::to_string(t);
                  for (int step = 0; step < kSteps; ++step) writer.log(node, "x", step, step);
                });
              for (auto& th : threads) th.join();
              store.heartbeat(id);  // a second connection writing while the writer flushes
              writer.flush();
              if (writer.rows_written() != kRowsPerRun)
                throw std::runtime_error("rows_written " + std::to_string(writer.rows_written()));
            }
            store.finish_run(id, RunStatus::kFinished);
          }
        },
        dir / ("writer" + std::to_string(p) + ".err")));
  }
  // A reader querying throughout: WAL readers never block writers, and must not fail either.
  const fs::path stop = dir / "stop";
  const pid_t reader = fork_child(
      [&] {
        barrier.wait();
        int64_t last_count = 0;
        int queries = 0;
        while (!fs::exists(stop)) {
          ReadOnlyDb ro(db);
          const auto count =
              std::get<int64_t>(ro.execute_user_sql("SELECT COUNT(*) FROM metrics").rows[0][0]);
          if (count < last_count) throw std::runtime_error("metric count went backwards");
          last_count = count;
          RunQuery q;
          q.filter = "metrics.t0.x >= 0 and params.proc IN ('0', '1', '2', '3', '4')";
          q.sort = {"-metrics.t1.x"};
          run_query(ro, q);
          ++queries;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        std::fprintf(stderr, "reader ran %d queries\n", queries);
      },
      dir / "reader.err");

  const auto t0 = std::chrono::steady_clock::now();
  barrier.release();
  for (int p = 0; p < kProcs; ++p) {
    const int rc = wait_child(writers[p]);
    const std::string err = slurp(dir / ("writer" + std::to_string(p) + ".err"));
    BOOST_TEST(rc == 0, "writer " << p << " exited " << rc << ": " << err);
    // Nothing on stderr at all: MetricWriter reports lost rows there.
    BOOST_TEST(err.empty(), "writer " << p << " stderr: " << err);
    BOOST_TEST(err.find("locked") == std::string::npos);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::ofstream(stop).put('\n');
  BOOST_TEST(wait_child(reader) == 0, slurp(dir / "reader.err"));
  BOOST_TEST_MESSAGE(kProcs << " writer processes, " << kProcs * kRunsPerProc * kRowsPerRun
                            << " metric rows in " << seconds << " s; "
                            << slurp(dir / "reader.err"));

  RawStore raw(db);
  constexpr int kRuns = kProcs * kRunsPerProc;
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs") == kRuns);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs WHERE status = 'FINISHED' AND "
                         "end_time IS NOT NULL") == kRuns);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM metrics") == kRuns * kRowsPerRun);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM params") == 2 * kRuns);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM tags") == kRuns);
  // Exact per run and per series: every step once, and latest_metrics at the last step.
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM (SELECT run_id, node, COUNT(*) AS n, "
                         "COUNT(DISTINCT step) AS d, MIN(step) AS lo, MAX(step) AS hi "
                         "FROM metrics GROUP BY run_id, node) AS series WHERE n = " +
                         std::to_string(kSteps) + " AND d = n AND lo = 0 AND hi = " +
                         std::to_string(kSteps - 1)) == kRuns * kThreads);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM latest_metrics WHERE step = " +
                         std::to_string(kSteps - 1) + " AND value = step") == kRuns * kThreads);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM latest_metrics") == kRuns * kThreads);
  BOOST_TEST(raw.integer("SELECT COUNT(DISTINCT pid) FROM runs") == kProcs);
  if (raw.dialect() == Dialect::kSqlite) {
    BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
    BOOST_TEST(raw.column("PRAGMA foreign_key_check").empty());
  }

  // And the query layer sees the same.
  ReadOnlyDb ro(db);
  RunQuery q;
  q.filter = "metrics.t0.x = " + std::to_string(kSteps - 1) +
             " and metrics.t1.x = " + std::to_string(kSteps - 1) + " and status = 'FINISHED'";
  BOOST_TEST(run_query(ro, q).rows.size() == static_cast<size_t>(kRuns));
  q.filter = "tags.worker = '3' and params.proc = 3";
  BOOST_TEST(run_query(ro, q).rows.size() == static_cast<size_t>(kRunsPerProc));
}

BOOST_AUTO_TEST_SUITE_END()
