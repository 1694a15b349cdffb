// Tests for the SQLite results store: schema and migrations, the run/metric round trip, the
// background MetricWriter, and multi-process behaviour (a writer killed mid-stream, two writers
// sharing one file). Process tests fork(); every SQLite connection the parent uses after a fork
// is opened after it (connections must not cross fork()).
#include "tracking/store.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <sqlite3.h>
#include <sys/wait.h>

#include "tests/support/process.h"
#include "tests/support/raw_db.h"
#include "tests/support/store_backends.h"
#include "tests/support/temp_dir.h"
#include "tracking/metric_writer.h"
#include "tracking/read_only_db.h"
#include "tracking/reader.h"

namespace fs = std::filesystem;
using flowlab::testing::fresh_store;
using flowlab::testing::RawStore;
using flowlab::testing::store_backends;
using flowlab::testing::TempDir;
namespace data = boost::unit_test::data;
using namespace flowlab::tracking;

namespace {

using flowlab::testing::RawDb;  // tests/support/raw_db.h

RunStart make_start(const std::string& name, const std::string& experiment = "exp") {
  RunStart r;
  r.experiment = experiment;
  r.name = name;
  r.spec_file = "configs/" + name + ".yaml";
  r.composed_yaml = "nodes:\n  train: {op: train}\n";
  r.overrides = "train.lr=0.1 seed=3";
  r.git_commit = "0123456789abcdef0123456789abcdef01234567";
  r.host = "testhost";
  r.pid = 4242;
  r.seed = 3;
  r.flowlab_version = "0.1.0";
  return r;
}

std::vector<MetricRow> ramp(const std::string& node, const std::string& key, int n,
                            double scale = 1.0) {
  std::vector<MetricRow> rows;
  for (int i = 0; i < n; ++i) rows.push_back(MetricRow{node, key, i, i * scale, 1000.0 + i});
  return rows;
}

bool message_has(const StoreError& e, const std::string& needle) {
  const std::string what = e.what();
  if (what.find(needle) != std::string::npos) return true;
  BOOST_TEST_MESSAGE("StoreError message '" << what << "' lacks '" << needle << "'");
  return false;
}

// fork_child, wait_child and Barrier come from tests/support/process.h.
using flowlab::testing::Barrier;
using flowlab::testing::drop_root_privileges;
using flowlab::testing::fork_child;
using flowlab::testing::ReadOnlyDir;
using flowlab::testing::wait_child;

// Every row any table holds for run `id`, counted behind the API.
int64_t rows_of_run(RawDb& raw, int64_t id) {
  int64_t n = 0;
  for (const char* t :
       {"params", "metrics", "latest_metrics", "node_executions", "artifacts", "tags"})
    n += raw.integer(std::string("SELECT COUNT(*) FROM ") + t +
                     " WHERE run_id = " + std::to_string(id));
  return n;
}

// A run with a row in every table that names it.
int64_t full_run(Store& store, const std::string& name) {
  const int64_t id = store.begin_run(make_start(name));
  store.log_params(id, {{"lr", "0.1"}});
  store.log_metrics(id, ramp("train", "loss", 3));
  store.record_node(id, NodeExecution{"train", "train.classifier", "k", "KILLED", false, 1, 2, ""});
  store.record_artifact(id, ArtifactRow{"train", "model.pt", "model", "ab", 3});
  if (store.schema_version() >= 3) store.set_tag(id, "note", "x");
  return id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tracking_store)

BOOST_AUTO_TEST_CASE(fresh_db_has_latest_schema_and_all_tables) {
  TempDir dir;
  const fs::path db = dir / "nested/deeper/results.db";  // parent folders do not exist yet
  {
    Store store(db);
    BOOST_TEST(latest_schema_version() >= 2);
    BOOST_TEST(store.schema_version() == latest_schema_version());
    BOOST_TEST(store.path() == db);
  }
  BOOST_TEST(fs::exists(db));
  RawDb raw(db);
  BOOST_TEST(raw.integer("PRAGMA user_version") == latest_schema_version());
  BOOST_TEST(raw.text("PRAGMA journal_mode") == "wal");

  const auto tables = raw.column("SELECT name FROM sqlite_master WHERE type = 'table'");
  const std::set<std::string> have(tables.begin(), tables.end());
  for (const char* t : {"experiments", "runs", "params", "metrics", "node_executions", "artifacts",
                        "latest_metrics"})
    BOOST_TEST(have.count(t) == 1, "missing table " << t);
  BOOST_TEST(raw.text("SELECT type FROM sqlite_master WHERE name = 'runs_summary'") == "view");
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                         "name = 'metrics_run_key_step'") == 1);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM pragma_table_info('runs') "
                         "WHERE name = 'heartbeat'") == 1);
}

BOOST_AUTO_TEST_CASE(connection_enforces_foreign_keys_and_errors_name_the_statement) {
  TempDir dir;
  Store store(dir / "r.db");
  BOOST_CHECK_EXCEPTION(store.log_metrics(999, ramp("n", "k", 3)), StoreError,
                        [](const StoreError& e) {
                          return message_has(e, "INSERT INTO metrics") &&
                                 message_has(e, "FOREIGN KEY constraint failed");
                        });
  // The failed transaction was rolled back: nothing half-written, and the store still works.
  const int64_t id = store.begin_run(make_start("ok"));
  store.log_metrics(id, ramp("n", "k", 3));
  BOOST_TEST(store.metrics(id).size() == 3u);
  BOOST_TEST(store.metrics(999).empty());
}

BOOST_AUTO_TEST_CASE(migration_from_version_1_keeps_rows) {
  TempDir dir;
  const fs::path db = dir / "r.db";
  int64_t run_id = 0;
  {
    Store v1(db, 1);
    BOOST_TEST(v1.schema_version() == 1);
    run_id = v1.begin_run(make_start("old"));
    v1.log_params(run_id, {{"lr", "0.1"}, {"batch", "64"}});
    auto rows = ramp("train", "loss", 10, 0.5);
    rows.push_back(MetricRow{"train", "loss", 9, 42.0, 2000.0});  // same step again: later wins
    rows.push_back(MetricRow{"eval", "acc", 3, 0.9, 2001.0});
    v1.log_metrics(run_id, rows);
    BOOST_CHECK_THROW(v1.heartbeat(run_id), StoreError);  // no heartbeat column yet
    const auto fin = v1.final_metrics(run_id);            // derived without latest_metrics
    BOOST_REQUIRE_EQUAL(fin.size(), 2u);
    BOOST_TEST(fin[1].node == "train");
    BOOST_TEST(fin[1].value == 42.0);
  }
  {
    RawDb raw(db);
    BOOST_TEST(raw.integer("PRAGMA user_version") == 1);
    BOOST_TEST(raw.integer("SELECT COUNT(*) FROM sqlite_master WHERE name = 'latest_metrics'") ==
               0);
  }
  {
    Store latest(db);
    BOOST_TEST(latest.schema_version() == latest_schema_version());
    const auto run = latest.get_run(run_id);
    BOOST_REQUIRE(run.has_value());
    BOOST_TEST(run->name == "old");
    BOOST_TEST(run->experiment == "exp");
    BOOST_TEST(run->composed_yaml == make_start("old").composed_yaml);
    BOOST_TEST((run->status == RunStatus::kRunning));
    const std::map<std::string, std::string> want_params{{"lr", "0.1"}, {"batch", "64"}};
    BOOST_TEST((latest.params(run_id) == want_params));
    const auto metrics = latest.metrics(run_id);
    BOOST_REQUIRE_EQUAL(metrics.size(), 12u);
    BOOST_TEST(metrics[4].step == 4);
    BOOST_TEST(metrics[4].value == 2.0);
    BOOST_TEST(metrics[4].timestamp == 1004.0);

    // latest_metrics was backfilled by the migration with the same rule.
    const auto fin = latest.final_metrics(run_id);
    BOOST_REQUIRE_EQUAL(fin.size(), 2u);
    BOOST_TEST(fin[0].node == "eval");
    BOOST_TEST(fin[0].value == 0.9);
    BOOST_TEST(fin[1].step == 9);
    BOOST_TEST(fin[1].value == 42.0);

    latest.heartbeat(run_id);  // the new column works for old rows
    latest.log_metrics(run_id, {MetricRow{"train", "loss", 10, 7.0, 3000.0}});
    BOOST_TEST(latest.final_metrics(run_id)[1].value == 7.0);
  }
  RawDb raw(db);
  BOOST_TEST(raw.integer("PRAGMA user_version") == latest_schema_version());
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM latest_metrics") == 2);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs_summary") == 1);
  BOOST_TEST(raw.integer("SELECT n_params FROM runs_summary") == 2);
  BOOST_TEST(raw.text("SELECT heartbeat IS NOT NULL FROM runs") == "1");
  BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
}

BOOST_AUTO_TEST_CASE(newer_or_downgraded_schema_is_refused) {
  TempDir dir;
  const fs::path db = dir / "r.db";
  { Store store(db); }
  // Asking for an older version than the file has would mean a downgrade.
  BOOST_CHECK_EXCEPTION(Store(db, 1), StoreError,
                        [](const StoreError& e) { return message_has(e, "downgrade"); });
  BOOST_CHECK_THROW(Store(db, latest_schema_version() + 1), StoreError);
  BOOST_CHECK_THROW(Store(db, 0), StoreError);
  {
    RawDb raw(db);
    BOOST_REQUIRE_EQUAL(
        raw.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1)),
        SQLITE_OK);
  }
  BOOST_CHECK_EXCEPTION(Store{db}, StoreError,
                        [](const StoreError& e) { return message_has(e, "newer"); });
}

BOOST_DATA_TEST_CASE(run_round_trip, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  const int64_t parent = store.begin_run(make_start("parent", "sweep"));
  RunStart start = make_start("child", "sweep");
  start.parent_id = parent;
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t id = store.begin_run(start);
  BOOST_TEST(id != parent);

  store.log_params(id, {{"lr", "0.1"}, {"optimizer", "adam"}});
  store.log_params(id, {{"lr", "0.2"}});  // re-logging a key replaces its value
  store.log_metrics(
      id, {MetricRow{"train", "loss", 0, 2.5, 100.0}, MetricRow{"train", "loss", 1, 1.5, 101.0},
           MetricRow{"eval", "acc", 1, 0.75, 102.0}});
  NodeExecution exec;
  exec.node = "train";
  exec.op = "trainer.sgd";
  exec.cache_key = "abc123";
  exec.status = "FINISHED";
  exec.cache_hit = false;
  exec.start_time = 10.0;
  exec.end_time = 12.5;
  store.record_node(id, exec);
  NodeExecution hit = exec;
  hit.node = "data";
  hit.cache_hit = true;
  hit.status = "FAILED";
  hit.error = "boom";
  store.record_node(id, hit);
  store.record_artifact(
      id, ArtifactRow{"train", "runs/x/model.pt", "checkpoint", std::string(64, 'a'), 12345});
  store.finish_run(id, RunStatus::kFailed, "out of memory");

  const auto run = store.get_run(id);
  BOOST_REQUIRE(run.has_value());
  BOOST_TEST(run->id == id);
  BOOST_TEST(run->uuid.size() == 32u);
  BOOST_TEST(run->uuid.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(run->uuid != store.get_run(parent)->uuid);
  BOOST_TEST(run->experiment == "sweep");
  BOOST_TEST((run->parent_id == std::optional<int64_t>(parent)));
  BOOST_TEST(run->name == "child");
  BOOST_TEST((run->status == RunStatus::kFailed));
  BOOST_TEST(run->start_time >= before - 1);
  BOOST_REQUIRE(run->end_time.has_value());
  BOOST_TEST(*run->end_time >= run->start_time);
  BOOST_TEST(run->spec_file == start.spec_file);
  BOOST_TEST(run->composed_yaml == start.composed_yaml);
  BOOST_TEST(run->overrides == start.overrides);
  BOOST_TEST(run->git_commit == start.git_commit);
  BOOST_TEST(run->host == "testhost");
  BOOST_TEST(run->flowlab_version == "0.1.0");
  BOOST_TEST(run->error == "out of memory");
  BOOST_TEST(run->pid == 4242);
  BOOST_TEST(run->seed == 3);
  BOOST_TEST(!store.get_run(parent)->parent_id.has_value());
  BOOST_TEST(!store.get_run(parent)->end_time.has_value());
  BOOST_TEST(!store.get_run(id + 1000).has_value());

  const std::map<std::string, std::string> want{{"lr", "0.2"}, {"optimizer", "adam"}};
  BOOST_TEST((store.params(id) == want));
  BOOST_TEST(store.params(parent).empty());

  const auto m = store.metrics(id);
  BOOST_REQUIRE_EQUAL(m.size(), 3u);
  BOOST_TEST(m[0].node == "train");
  BOOST_TEST(m[0].key == "loss");
  BOOST_TEST(m[0].step == 0);
  BOOST_TEST(m[0].value == 2.5);
  BOOST_TEST(m[0].timestamp == 100.0);
  BOOST_TEST(m[2].node == "eval");

  const auto execs = store.node_executions(id);
  BOOST_REQUIRE_EQUAL(execs.size(), 2u);
  BOOST_TEST(execs[0].node == "train");
  BOOST_TEST(execs[0].op == "trainer.sgd");
  BOOST_TEST(execs[0].cache_key == "abc123");
  BOOST_TEST(execs[0].status == "FINISHED");
  BOOST_TEST(!execs[0].cache_hit);
  BOOST_TEST(execs[0].start_time == 10.0);
  BOOST_TEST(execs[0].end_time == 12.5);
  BOOST_TEST(execs[0].error.empty());
  BOOST_TEST(execs[1].cache_hit);
  BOOST_TEST(execs[1].status == "FAILED");
  BOOST_TEST(execs[1].error == "boom");

  const auto arts = store.artifacts(id);
  BOOST_REQUIRE_EQUAL(arts.size(), 1u);
  BOOST_TEST(arts[0].node == "train");
  BOOST_TEST(arts[0].path == "runs/x/model.pt");
  BOOST_TEST(arts[0].kind == "checkpoint");
  BOOST_TEST(arts[0].sha256 == std::string(64, 'a'));
  BOOST_TEST(arts[0].size == 12345);

  RawStore raw(db);
  BOOST_TEST(raw.text("SELECT wall_s FROM node_executions ORDER BY id LIMIT 1") == "2.5");
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs_summary") == 2);
  BOOST_TEST(raw.integer("SELECT n_nodes FROM runs_summary WHERE run_id = " + std::to_string(id)) ==
             2);
}

BOOST_DATA_TEST_CASE(list_runs_is_newest_first, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  std::vector<int64_t> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(store.begin_run(make_start("r" + std::to_string(i))));
  const auto all = store.list_runs();
  BOOST_REQUIRE_EQUAL(all.size(), 4u);
  for (size_t i = 0; i < 4; ++i) BOOST_TEST(all[i].id == ids[3 - i]);
  BOOST_TEST(all[0].name == "r3");
  const auto two = store.list_runs(2);
  BOOST_REQUIRE_EQUAL(two.size(), 2u);
  BOOST_TEST(two[0].id == ids[3]);
  BOOST_TEST(two[1].id == ids[2]);
}

BOOST_AUTO_TEST_CASE(status_strings_round_trip) {
  for (RunStatus s :
       {RunStatus::kRunning, RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled})
    BOOST_TEST((run_status_from_string(to_string(s)) == s));
  BOOST_TEST(to_string(RunStatus::kKilled) == "KILLED");
  BOOST_CHECK_THROW(run_status_from_string("finished"), StoreError);
  BOOST_CHECK_THROW(run_status_from_string(""), StoreError);
  BOOST_CHECK_THROW(run_status_from_string("DONE"), StoreError);

  TempDir dir;
  Store store(dir / "r.db");
  for (RunStatus s : {RunStatus::kFinished, RunStatus::kFailed, RunStatus::kKilled}) {
    const int64_t id = store.begin_run(make_start("s"));
    BOOST_TEST((store.get_run(id)->status == RunStatus::kRunning));
    store.finish_run(id, s);
    BOOST_TEST((store.get_run(id)->status == s));
    BOOST_TEST(store.get_run(id)->error.empty());
  }
  BOOST_CHECK_THROW(store.finish_run(12345, RunStatus::kFinished), StoreError);
  BOOST_CHECK_THROW(store.finish_run(1, RunStatus::kRunning), StoreError);
  // The CHECK constraint guards the column even against writers that bypass this API.
  RawDb raw(store.path());
  BOOST_TEST(raw.exec("UPDATE runs SET status = 'DONE' WHERE id = 1") == SQLITE_CONSTRAINT);
  BOOST_TEST(raw.text("SELECT status FROM runs WHERE id = 1") == "FINISHED");
}

BOOST_DATA_TEST_CASE(nan_and_inf_metrics_are_stored, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  const int64_t id = store.begin_run(make_start("nan"));
  const double inf = std::numeric_limits<double>::infinity();
  store.log_metrics(
      id, {MetricRow{"t", "loss", 0, 1.5, 1.0}, MetricRow{"t", "loss", 1, std::nan(""), 2.0},
           MetricRow{"t", "loss", 2, inf, 3.0}, MetricRow{"t", "loss", 3, -inf, 4.0},
           MetricRow{"t", "grad", 0, std::nan(""), 5.0}});
  const auto m = store.metrics(id);
  BOOST_REQUIRE_EQUAL(m.size(), 5u);
  BOOST_TEST(m[0].value == 1.5);
  BOOST_TEST(std::isnan(m[1].value));
  BOOST_TEST((std::isinf(m[2].value) && m[2].value > 0));
  BOOST_TEST((std::isinf(m[3].value) && m[3].value < 0));
  const auto fin = store.final_metrics(id);
  BOOST_REQUIRE_EQUAL(fin.size(), 2u);
  BOOST_TEST(fin[0].key == "grad");
  BOOST_TEST(std::isnan(fin[0].value));  // NaN survives the latest_metrics upsert too
  BOOST_TEST((std::isinf(fin[1].value) && fin[1].value < 0));
  // The encoding on disk: NULL for NaN.
  RawStore raw(db);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM metrics WHERE value IS NULL") == 2);
}

BOOST_DATA_TEST_CASE(final_metrics_takes_last_step_per_series, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  const int64_t id = store.begin_run(make_start("fin"));
  const int64_t other = store.begin_run(make_start("other"));
  // Out of order within a batch, and across batches a lower step arriving later.
  store.log_metrics(
      id, {MetricRow{"train", "loss", 3, 0.3, 1.0}, MetricRow{"train", "loss", 5, 0.5, 2.0},
           MetricRow{"train", "loss", 4, 0.4, 3.0}, MetricRow{"eval", "loss", 1, 9.0, 4.0},
           MetricRow{"train", "acc", 2, 0.8, 5.0}});
  store.log_metrics(id, {MetricRow{"train", "loss", 2, 0.2, 6.0},
                         MetricRow{"eval", "loss", 1, 8.0, 7.0}});  // same step: later wins
  store.log_metrics(other, {MetricRow{"train", "loss", 100, -1.0, 8.0}});
  store.log_metrics(id, {MetricRow{"train", "acc", 7, 0.9, 0.0}});  // timestamp 0 -> now

  const auto fin = store.final_metrics(id);
  BOOST_REQUIRE_EQUAL(fin.size(), 3u);  // sorted by (node, key)
  BOOST_TEST(fin[0].node == "eval");
  BOOST_TEST(fin[0].key == "loss");
  BOOST_TEST(fin[0].value == 8.0);
  BOOST_TEST(fin[1].node == "train");
  BOOST_TEST(fin[1].key == "acc");
  BOOST_TEST(fin[1].step == 7);
  BOOST_TEST(fin[1].timestamp > 1e9);
  BOOST_TEST(fin[2].key == "loss");
  BOOST_TEST(fin[2].step == 5);
  BOOST_TEST(fin[2].value == 0.5);
  BOOST_TEST(fin[2].timestamp == 2.0);
  BOOST_REQUIRE_EQUAL(store.final_metrics(other).size(), 1u);
  BOOST_TEST(store.final_metrics(other)[0].step == 100);
  BOOST_TEST(store.final_metrics(other + 1).empty());
}

BOOST_DATA_TEST_CASE(metric_writer_many_threads, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  const int64_t id = store.begin_run(make_start("threads"));
  constexpr int kThreads = 3, kRows = 5000;
  {
    MetricWriter writer(db, id, 20, 1000);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&writer, t] {
        for (int i = 0; i < kRows; ++i) writer.log("n" + std::to_string(t), "loss", i, i * 0.5);
      });
    for (auto& th : threads) th.join();
    writer.flush();
    // flush() returned, so everything is committed and visible to another connection.
    BOOST_TEST(writer.rows_written() == kThreads * kRows);
    const auto rows = store.metrics(id);
    BOOST_REQUIRE_EQUAL(rows.size(), static_cast<size_t>(kThreads * kRows));
    // Each thread's rows keep their order.
    std::map<std::string, int64_t> next;
    bool ordered = true;
    for (const auto& r : rows) {
      ordered = ordered && r.step == next[r.node] && r.value == r.step * 0.5;
      next[r.node] = r.step + 1;
    }
    BOOST_TEST(ordered);
    const auto fin = store.final_metrics(id);
    BOOST_REQUIRE_EQUAL(fin.size(), 3u);
    for (const auto& f : fin) BOOST_TEST(f.step == kRows - 1);
  }
  RawStore raw(db);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM metrics") == kThreads * kRows);
}

BOOST_DATA_TEST_CASE(metric_writer_flush_and_destructor, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  const int64_t id = store.begin_run(make_start("dtor"));
  // An interval and batch size that never trigger: only flush()/the destructor write.
  {
    auto writer = std::make_unique<MetricWriter>(db, id, 60'000, 1'000'000);
    for (int i = 0; i < 100; ++i) writer->log("n", "a", i, 1.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(store.metrics(id).empty());  // log() does not write
    writer->flush();
    BOOST_TEST(store.metrics(id).size() == 100u);
    writer->flush();  // nothing pending: returns at once
    for (int i = 0; i < 1000; ++i) writer->log("n", "b", i, 2.0);
    const auto start = std::chrono::steady_clock::now();
    writer.reset();  // must write the 1,000 rows and not sit out the 60 s interval
    BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(5)));
  }
  BOOST_TEST(store.metrics(id).size() == 1100u);

  // Batches trigger on size without any flush.
  {
    MetricWriter writer(db, id, 60'000, 10);
    for (int i = 0; i < 25; ++i) writer.log("n", "c", i, 3.0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (writer.rows_written() < 20 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    BOOST_TEST(writer.rows_written() >= 20);
  }
  // And on time.
  {
    MetricWriter writer(db, id, 10, 1'000'000);
    writer.log("n", "d", 0, 4.0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (writer.rows_written() < 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    BOOST_TEST(writer.rows_written() == 1);
  }
  BOOST_TEST(store.metrics(id).size() == 1126u);
}

BOOST_DATA_TEST_CASE(metric_writer_reports_errors, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  { Store store(db); }
  // No such run: every batch fails the foreign key check on the writer thread. The rows are not
  // dropped: they go to the spool file, which the error names.
  MetricWriterOptions options;
  options.flush_interval_ms = 5;
  options.max_batch = 10;
  options.spool_dir = dir / "spool";
  MetricWriter writer(db, 777, options);
  writer.log("n", "k", 0, 1.0);
  BOOST_CHECK_EXCEPTION(writer.flush(), StoreError, [&](const StoreError& e) {
    return (message_has(e, "FOREIGN KEY constraint failed") ||     // SQLite
            message_has(e, "violates foreign key constraint")) &&  // PostgreSQL
           message_has(e, "saved in " + (dir / "spool").string());
  });
  BOOST_TEST(writer.rows_spooled() == 1);
  BOOST_TEST(writer.rows_written() == 0);
  writer.flush();  // the error was reported once; nothing pending now

  // Without flush(), the next log() call reports it.
  writer.log("n", "k", 1, 1.0);
  bool thrown = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!thrown && std::chrono::steady_clock::now() < deadline) {
    try {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      writer.log("n", "k", 2, 1.0);
    } catch (const StoreError&) {
      thrown = true;
    }
  }
  BOOST_TEST(thrown);
  try {
    writer.flush();  // leave no unreported error for the destructor to print
  } catch (const StoreError&) {
  }
}

BOOST_DATA_TEST_CASE(writer_killed_mid_stream_leaves_consistent_db, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  int64_t before_id = 0;
  {  // Written and closed before the fork.
    Store store(db);
    before_id = store.begin_run(make_start("before"));
    store.log_params(before_id, {{"lr", "0.1"}});
    store.log_metrics(before_id, ramp("train", "loss", 500, 0.25));
    store.finish_run(before_id, RunStatus::kFinished);
  }
  constexpr int kFlushed = 1000;
  const pid_t pid = fork_child([&] {
    Store store(db);
    const int64_t id = store.begin_run(make_start("crash-child"));
    MetricWriter writer(db, id, 2, 200);
    for (int i = 0; i < kFlushed; ++i) writer.log("child", "x", i, i * 0.25);
    writer.flush();
    // Keep the writer busy with batches, then die without any cleanup.
    for (int i = kFlushed; i < 40'000; ++i) writer.log("child", "x", i, i * 0.25);
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    raise(SIGKILL);
  });
  BOOST_REQUIRE_EQUAL(wait_child(pid), -SIGKILL);

  RawStore raw(db);
  if (raw.dialect() == Dialect::kSqlite) BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
  if (raw.dialect() == Dialect::kSqlite) BOOST_TEST(raw.column("PRAGMA foreign_key_check").empty());

  Store store(db);
  const auto before = store.get_run(before_id);
  BOOST_REQUIRE(before.has_value());
  BOOST_TEST((before->status == RunStatus::kFinished));
  BOOST_TEST(store.params(before_id).at("lr") == "0.1");
  const auto bm = store.metrics(before_id);
  BOOST_REQUIRE_EQUAL(bm.size(), 500u);
  BOOST_TEST(bm[499].value == 499 * 0.25);
  BOOST_TEST(store.final_metrics(before_id).at(0).step == 499);

  const auto runs = store.list_runs();
  BOOST_REQUIRE_EQUAL(runs.size(), 2u);
  const RunRow& child = runs[0];
  BOOST_TEST(child.name == "crash-child");
  BOOST_TEST((child.status == RunStatus::kRunning));
  BOOST_TEST(!child.end_time.has_value());
  // Committed rows form a prefix of what was logged (one writer thread commits in order), and
  // at least everything flushed before the kill is there.
  const auto cm = store.metrics(child.id);
  BOOST_TEST_MESSAGE("child committed " << cm.size() << " of 40000 rows before SIGKILL");
  BOOST_TEST(cm.size() >= static_cast<size_t>(kFlushed));
  bool well_formed = true;
  for (size_t i = 0; i < cm.size(); ++i)
    well_formed = well_formed && cm[i].node == "child" && cm[i].key == "x" &&
                  cm[i].step == static_cast<int64_t>(i) && cm[i].value == i * 0.25 &&
                  cm[i].timestamp > 1e9;
  BOOST_TEST(well_formed);
  const auto fin = store.final_metrics(child.id);
  BOOST_REQUIRE_EQUAL(fin.size(), 1u);
  BOOST_TEST(fin[0].step == static_cast<int64_t>(cm.size()) - 1);  // summary matches rows

  // The dead process left no lock behind.
  store.finish_run(child.id, RunStatus::kKilled, "killed");
  BOOST_TEST((store.get_run(child.id)->status == RunStatus::kKilled));
}

BOOST_DATA_TEST_CASE(two_processes_write_concurrently, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  { Store store(db); }
  constexpr int kRows = 5000;
  Barrier barrier;
  std::vector<pid_t> pids;
  for (int p = 0; p < 2; ++p)
    pids.push_back(fork_child([&, p] {
      Store store(db);
      barrier.wait();
      const int64_t id = store.begin_run(make_start("proc" + std::to_string(p)));
      // Small batches and a short interval: many interleaved write transactions.
      MetricWriter writer(db, id, 1, 100);
      for (int i = 0; i < kRows; ++i) {
        writer.log("node", "loss", i, p + i * 1e-3);
        if (i % 1000 == 0) store.heartbeat(id);  // a second writer connection in this process
      }
      writer.flush();
      if (writer.rows_written() != kRows) throw std::runtime_error("rows_written mismatch");
      store.finish_run(id, RunStatus::kFinished);
    }));
  barrier.release();
  for (pid_t pid : pids) BOOST_TEST(wait_child(pid) == 0);

  RawStore raw(db);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM metrics") == 2 * kRows);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'") == 2);
  if (raw.dialect() == Dialect::kSqlite) BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
  Store store(db);
  for (const auto& run : store.list_runs()) {
    BOOST_TEST(store.metrics(run.id).size() == static_cast<size_t>(kRows));
    BOOST_TEST(store.final_metrics(run.id).at(0).step == kRows - 1);
  }
}

BOOST_DATA_TEST_CASE(processes_racing_to_create_a_fresh_db, data::make(store_backends()), backend) {
  TempDir dir;
  // SQLite: a file in a directory that does not exist yet.
  const StoreLocation db =
      backend == "sqlite" ? StoreLocation(dir / "fresh/r.db") : fresh_store(backend, dir);
  constexpr int kProcs = 4;
  Barrier barrier;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p)
    pids.push_back(fork_child([&, p] {
      barrier.wait();
      Store store(db);  // all of them find no file / an empty schema
      store.begin_run(make_start("racer" + std::to_string(p)));
    }));
  barrier.release();
  for (pid_t pid : pids) BOOST_TEST(wait_child(pid) == 0);
  Store store(db);
  BOOST_TEST(store.schema_version() == latest_schema_version());
  BOOST_TEST(store.list_runs().size() == static_cast<size_t>(kProcs));
}

BOOST_DATA_TEST_CASE(one_writer_serves_several_runs_in_logging_order, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store store(db);
  const int64_t a = store.begin_run(make_start("a")), b = store.begin_run(make_start("b"));
  {
    MetricWriter writer(db, a, /*flush_interval_ms=*/50, /*max_batch=*/7);
    for (int i = 0; i < 100; ++i) {
      writer.log_for(i % 2 ? b : a, "train", "loss", i, i * 0.5);
      writer.log("eval", "acc", i, 1.0);  // the writer's own run
    }
    writer.flush();
  }
  auto rows_a = store.metrics(a), rows_b = store.metrics(b);
  BOOST_TEST(rows_a.size() == 150u);  // 50 losses + 100 accuracies
  BOOST_TEST(rows_b.size() == 50u);
  int64_t previous = -1;
  for (const auto& m : rows_b) {
    BOOST_TEST(m.step % 2 == 1);
    BOOST_TEST(m.step > previous);  // insert order = logging order within a run
    previous = m.step;
  }
}

// Issue 11 item 7: deleting the newest run the obvious way (the sqlite3 shell leaves foreign keys
// off) must neither hand its id to the next run nor leave rows that the next run then shows.
BOOST_AUTO_TEST_CASE(deleted_run_ids_are_never_reused) {
  TempDir dir;
  const fs::path db = dir / "r.db";
  int64_t first = 0, deleted = 0;
  {
    Store store(db);
    first = full_run(store, "kept");
    deleted = full_run(store, "deleted");
  }
  {
    RawDb raw(db);
    BOOST_REQUIRE_EQUAL(raw.exec("DELETE FROM runs WHERE id = " + std::to_string(deleted)),
                        SQLITE_OK);
    BOOST_TEST(rows_of_run(raw, deleted) == 0);  // its rows went with it, foreign keys or not
  }
  Store store(db);
  const int64_t next = store.begin_run(make_start("next"));
  BOOST_TEST(next > deleted);
  BOOST_TEST(store.params(next).empty());
  BOOST_TEST(store.node_executions(next).empty());
  BOOST_TEST(store.metrics(next).empty());
  BOOST_TEST(store.params(first).size() == 1u);  // the other run is untouched
  BOOST_TEST(store.metrics(first).size() == 3u);
  {
    // Not even when every run is gone.
    RawDb raw(db);
    BOOST_REQUIRE_EQUAL(raw.exec("DELETE FROM runs"), SQLITE_OK);
  }
  BOOST_TEST(store.begin_run(make_start("after all")) > next);
}

// Migration 4 on a file whose newest run was deleted before it: the run's orphaned rows keep
// their id from being issued again, and everything else is intact.
BOOST_AUTO_TEST_CASE(migration_from_version_3_never_reuses_a_deleted_runs_id) {
  TempDir dir;
  const fs::path db = dir / "r.db";
  int64_t kept = 0, deleted = 0;
  {
    Store v3(db, 3);
    kept = full_run(v3, "kept");
    deleted = full_run(v3, "deleted");
    v3.finish_run(kept, RunStatus::kFinished);
  }
  {
    RawDb raw(db);
    BOOST_REQUIRE_EQUAL(raw.exec("DELETE FROM runs WHERE id = " + std::to_string(deleted)),
                        SQLITE_OK);
    BOOST_TEST(rows_of_run(raw, deleted) == 8);  // version 3: left behind
    BOOST_TEST(raw.integer("SELECT MAX(id) FROM runs") == kept);
  }
  {
    Store latest(db);
    BOOST_TEST(latest.schema_version() == latest_schema_version());
    const auto run = latest.get_run(kept);
    BOOST_REQUIRE(run.has_value());
    BOOST_TEST(run->name == "kept");
    BOOST_TEST((run->status == RunStatus::kFinished));
    BOOST_TEST(latest.params(kept).size() == 1u);
    BOOST_TEST(latest.metrics(kept).size() == 3u);
    BOOST_TEST(latest.final_metrics(kept).size() == 1u);
    BOOST_TEST(latest.node_executions(kept).size() == 1u);
    BOOST_TEST(latest.artifacts(kept).size() == 1u);
    BOOST_TEST(latest.tags(kept).size() == 1u);
    const int64_t next = latest.begin_run(make_start("next"));
    BOOST_TEST(next > deleted);
    BOOST_TEST(latest.params(next).empty());
    BOOST_TEST(latest.node_executions(next).empty());
  }
  RawDb raw(db);
  BOOST_TEST(raw.integer("PRAGMA user_version") == latest_schema_version());
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM run_attributes") == 2);
  BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
}

// Issue 11 item 6: a read-only Store reads every version without migrating and refuses writes.
BOOST_AUTO_TEST_CASE(read_only_store_reads_and_refuses_writes) {
  TempDir dir;
  const fs::path db = dir / "r.db";
  int64_t id = 0;
  {
    Store v1(db, 1);
    id = v1.begin_run(make_start("old"));
    v1.log_params(id, {{"lr", "0.1"}});
  }
  {
    const Store ro(db, Store::Access::kReadOnly);
    BOOST_TEST(ro.schema_version() == 1);  // not migrated
    BOOST_TEST(ro.list_runs().size() == 1u);
    BOOST_TEST(ro.params(id).size() == 1u);
    BOOST_TEST(ro.tags(id).empty());
  }
  Store ro(db, Store::Access::kReadOnly);
  BOOST_CHECK_EXCEPTION(ro.begin_run(make_start("new")), StoreError,
                        [](const StoreError& e) { return message_has(e, "read-only"); });
  BOOST_CHECK_THROW(ro.finish_run(id, RunStatus::kFinished), StoreError);
  RawDb raw(db);
  BOOST_TEST(raw.integer("PRAGMA user_version") == 1);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs") == 1);
  BOOST_CHECK_THROW(Store(dir / "missing.db", Store::Access::kReadOnly), StoreError);
}

// Issue 11 item 6: a workspace the user cannot write (directory and file read-only). Tests run as
// root here, whom file modes do not stop, so the checks run in a child that drops to nobody.
BOOST_AUTO_TEST_CASE(read_only_workspace_reads_and_says_why_it_cannot_write) {
  TempDir dir;
  const fs::path db = dir / "runs.db";
  int64_t id = 0;
  {
    Store store(db);
    id = full_run(store, "a");
    store.finish_run(id, RunStatus::kFinished);
  }
  BOOST_REQUIRE(!fs::exists(dir / "runs.db-wal"));  // closed cleanly: no -wal, no -shm
  ReadOnlyDir read_only(dir.path());
  const fs::path log = fs::temp_directory_path() / ("flowlab-ro-" + std::to_string(getpid()));
  auto in_child = [&](auto body) {
    const int rc = wait_child(fork_child(
        [&] {
          drop_root_privileges();
          body();
        },
        log));
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (rc != 0) BOOST_TEST_MESSAGE("child said: " << text);
    fs::remove(log);
    return rc;
  };
  BOOST_TEST(in_child([&] {
               const Store store(db, Store::Access::kReadOnly);
               if (store.params(id).size() != 1 || store.metrics(id).size() != 3)
                 throw std::runtime_error("read the wrong rows");
             }) == 0);
  BOOST_TEST(in_child([&] {
               const RunReader reader(db);
               if (!reader.run(id) || reader.final_metrics({id}).size() != 1)
                 throw std::runtime_error("read the wrong rows");
             }) == 0);
  BOOST_TEST(in_child([&] {
               const ReadOnlyDb ro(db);
               if (ro.execute("SELECT COUNT(*) FROM run_params").rows.size() != 1)
                 throw std::runtime_error("read the wrong rows");
             }) == 0);
  // A command that records says the workspace is read-only.
  BOOST_TEST(in_child([&] {
               try {
                 Store store(db);
               } catch (const StoreError& e) {
                 if (std::string(e.what()).find("workspace is read-only") != std::string::npos)
                   return;
                 throw;
               }
               throw std::runtime_error("opened a read-only workspace for writing");
             }) == 0);
  BOOST_TEST(!fs::exists(dir / "runs.db-wal"));
}

// A version-3 file (every view readers use) in a read-only workspace is read as it is: it cannot
// be migrated there, and need not be. An older one says why it cannot be read.
BOOST_AUTO_TEST_CASE(read_only_workspace_reads_a_version_3_file_unmigrated) {
  TempDir dir;
  const fs::path db = dir / "runs.db";
  int64_t id = 0;
  {
    Store v3(db, 3);
    id = full_run(v3, "a");
  }
  ReadOnlyDir read_only(dir.path());
  const int rc = wait_child(fork_child([&] {
    drop_root_privileges();
    const RunReader reader(db);
    if (!reader.run(id) || reader.params({id}).size() != 1)
      throw std::runtime_error("read the wrong rows");
    if (Store(db, Store::Access::kReadOnly).schema_version() != 3)
      throw std::runtime_error("migrated a read-only file");
  }));
  BOOST_TEST(rc == 0);
}

BOOST_AUTO_TEST_SUITE_END()
