// What the two store backends add: store URIs, placeholder numbering, exactly-once metric
// batches, copying runs between stores (SQLite <-> PostgreSQL), spool files, and, against a real
// PostgreSQL server that is killed and restarted, a MetricWriter that loses no row.
#include "tests/support/store_backends.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "common/error.h"
#include "tests/support/temp_dir.h"
#include "tracking/metric_writer.h"
#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/spool.h"
#include "tracking/store.h"
#include "tracking/store_copy.h"

namespace fs = std::filesystem;
namespace data = boost::unit_test::data;
using namespace flowlab::testing;
using namespace flowlab::tracking;

namespace {

RunStart start(const std::string& name, std::optional<int64_t> parent = std::nullopt) {
  RunStart r;
  r.experiment = "exp";
  r.name = name;
  r.parent_id = parent;
  r.host = "h";
  r.pid = 7;
  r.seed = 11;
  r.composed_yaml = "nodes: {}\n";
  return r;
}

std::vector<MetricRow> ramp(int n, double scale, double t0 = 1000) {
  std::vector<MetricRow> rows;
  for (int i = 0; i < n; ++i) rows.push_back({"train", "loss", i, i * scale, t0 + i});
  return rows;
}

bool same_value(double a, double b) {  // NaN equals NaN; otherwise bit for bit
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

// Every (run, node, key, step, value) the store holds, as text, in insert order.
std::vector<std::string> metric_dump(const Store& s, int64_t id) {
  std::vector<std::string> out;
  for (const auto& m : s.metrics(id))
    out.push_back(fmt::format("{}/{}/{}={}@{}", m.node, m.key, m.step, m.value, m.timestamp));
  return out;
}

// The PostgreSQL-only cases run where with_postgres.sh started a server (ctest's store_postgres)
// and are reported as skipped elsewhere, not as passed.
boost::test_tools::assertion_result have_postgres(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result r(store_backends().size() > 1);
  r.message() << "no PostgreSQL server (FLOWLAB_TEST_POSTGRES is unset)";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tracking_backends)

BOOST_AUTO_TEST_CASE(store_uris_follow_sqlalchemy_and_hide_passwords) {
  BOOST_TEST(StoreLocation::parse("sqlite:///runs.db").sqlite_path == fs::path("runs.db"));
  BOOST_TEST(StoreLocation::parse("sqlite:////tmp/x/runs.db").sqlite_path ==
             fs::path("/tmp/x/runs.db"));
  BOOST_TEST(StoreLocation::parse("some/dir/runs.db").sqlite_path == fs::path("some/dir/runs.db"));
  const auto pg = StoreLocation::parse("postgresql://ann:s3cret@db.lab:5433/results?sslmode=off");
  BOOST_TEST((pg.dialect == Dialect::kPostgres));
  BOOST_TEST(pg.postgres_uri == "postgresql://ann:s3cret@db.lab:5433/results?sslmode=off");
  BOOST_TEST(pg.display() == "postgresql://ann:***@db.lab:5433/results?sslmode=off");
  BOOST_TEST(StoreLocation::parse("postgres:///r?host=/tmp&password=x&user=u").display() ==
             "postgres:///r?host=/tmp&password=***&user=u");
  BOOST_TEST(StoreLocation::parse("postgresql://ann@h/db").display() == "postgresql://ann@h/db");
  for (const char* bad : {"mysql://h/db", "sqlite://runs.db", "sqlite:///", ""})
    BOOST_CHECK_THROW(StoreLocation::parse(bad), StoreError);
}

BOOST_AUTO_TEST_CASE(placeholders_are_numbered_outside_quotes_and_comments) {
  BOOST_TEST(number_placeholders("SELECT ? , '?', \"a?\", ? -- why?\n, ?") ==
             "SELECT $1 , '?', \"a?\", $2 -- why?\n, $3");
  BOOST_TEST(number_placeholders("x = 'it''s ?' AND y = ?") == "x = 'it''s ?' AND y = $1");
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_unavailable_and_named) {
  TempDir dir;
  // A socket directory with no server in it: refused at once.
  const auto nowhere = StoreLocation::parse("postgresql:///x?host=" + dir.path().string() +
                                            "&user=nobody&password=pw&connect_timeout=2");
  BOOST_CHECK_EXCEPTION(Store{nowhere}, StoreUnavailable, [&](const StoreUnavailable& e) {
    const std::string what = e.what();
    return contains(what, "cannot connect to the PostgreSQL store") &&
           contains(what, "password=***") && !contains(what, "password=pw");
  });
}

BOOST_DATA_TEST_CASE(a_metric_batch_is_written_at_most_once, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation where = fresh_store(backend, dir);
  Store s(where);
  const int64_t id = s.begin_run(start("r"));
  BOOST_TEST(s.log_metric_batch(id, ramp(5, 0.5), "w1", 1));
  BOOST_TEST(!s.log_metric_batch(id, ramp(5, 0.5), "w1", 1));  // resent: nothing added
  BOOST_TEST(s.log_metric_batch(id, ramp(3, 0.25), "w1", 2));
  BOOST_TEST(s.log_metric_batch(id, ramp(3, 0.25), "w2", 1));  // another writer's seq 1
  BOOST_TEST(s.metrics(id).size() == 11u);
  // A batch token dies with its run (purge), so an id is not haunted by an old token.
  s.purge_runs({id});
  RawStore raw(where);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM metric_batches") == 0);
}

// Copy a sweep with every kind of row from `a` to `b` (each backend to each), check that
// everything arrives exactly, that ids are remapped and uuids kept, and that a second copy adds
// nothing.
BOOST_DATA_TEST_CASE(store_copy_moves_runs_exactly_and_only_once,
                     data::make(store_backends()) * data::make(store_backends()), from_backend,
                     to_backend) {
  TempDir dir_a, dir_b;
  const StoreLocation a = fresh_store(from_backend, dir_a);
  const StoreLocation b = fresh_store(to_backend, dir_b);
  Store src(a);
  Store dst(b);
  // The destination already has a run, so ids cannot line up by accident.
  dst.begin_run(start("already there"));
  dst.begin_run(start("already there too"));

  const double inf = std::numeric_limits<double>::infinity();
  const int64_t parent = src.begin_run(start("sweep (sweep)"));
  const int64_t child = src.begin_run(start("child", parent));
  src.log_params(child, {{"lr", "0.1"}, {"opt", "adam"}});
  src.set_tags(child, {{"note", "héllo ✓"}, {"k", "v"}});
  std::vector<MetricRow> rows = ramp(2500, 0.1);  // more than one multi-row INSERT
  rows.push_back({"eval", "acc", 0, std::nan(""), 5000});
  rows.push_back({"eval", "acc", 1, 0.1 + 0.2, 5001});  // not a short decimal
  rows.push_back({"eval", "big", 0, inf, 5002});
  rows.push_back({"eval", "big", 1, -inf, 5003});
  rows.push_back({"eval", "tiny", 0, 5e-324, 5004});  // the smallest subnormal
  // (Not -0.0: SQLite stores a whole REAL as an integer and loses the sign of zero.)
  src.log_metrics(child, rows);
  src.log_metrics(child, {{"eval", "acc", 1, 0.75, 5006}});  // same step, later insert wins
  NodeExecution n;
  n.node = "train";
  n.op = "train.classifier";
  n.cache_key = "abc";
  n.status = "FINISHED";
  n.cache_hit = true;
  n.start_time = 10;
  n.end_time = 12.5;
  src.record_node(child, n);
  src.record_artifact(child, {"train", "cache/ab/abc/output", "model", std::string(64, 'f'), 42});
  src.finish_run(child, RunStatus::kFailed, "boom");
  const int64_t deleted = src.begin_run(start("deleted"));
  src.set_deleted({deleted}, true);
  src.finish_run(parent, RunStatus::kFinished);

  const CopyResult first = copy_runs(src, dst);
  BOOST_TEST(first.copied == 3);
  BOOST_TEST(first.present == 0);
  const CopyResult again = copy_runs(src, dst);
  BOOST_TEST(again.copied == 0);
  BOOST_TEST(again.present == 3);
  BOOST_TEST(dst.list_runs(0, RunView::kAll).size() == 5u);

  for (int64_t id : {parent, child, deleted}) {
    const RunRow from = *src.get_run(id);
    const auto to_id = dst.find_run(from.uuid);
    BOOST_REQUIRE(to_id.has_value());
    BOOST_TEST(*to_id != id);  // remapped: the destination issued its own ids
    const RunRow to = *dst.get_run(*to_id);
    BOOST_TEST(to.name == from.name);
    BOOST_TEST((to.status == from.status));
    BOOST_TEST(to.start_time == from.start_time);
    BOOST_TEST((to.end_time == from.end_time));
    BOOST_TEST((to.deleted_at == from.deleted_at));
    BOOST_TEST(to.error == from.error);
    BOOST_TEST(to.composed_yaml == from.composed_yaml);
    BOOST_TEST(to.seed == from.seed);
    BOOST_TEST((dst.params(*to_id) == src.params(id)));
    BOOST_TEST((dst.tags(*to_id) == src.tags(id)));
    BOOST_TEST(metric_dump(dst, *to_id) == metric_dump(src, id));
    const auto fa = src.final_metrics(id), fb = dst.final_metrics(*to_id);
    BOOST_REQUIRE_EQUAL(fa.size(), fb.size());
    for (size_t i = 0; i < fa.size(); ++i) {
      BOOST_TEST(fa[i].key == fb[i].key);
      BOOST_TEST(fa[i].step == fb[i].step);
      BOOST_TEST(same_value(fa[i].value, fb[i].value), fa[i].key);
    }
  }
  // The child's parent is the copied parent; the metric values are bit for bit.
  const int64_t child_to = *dst.find_run(src.get_run(child)->uuid);
  BOOST_TEST((dst.get_run(child_to)->parent_id == dst.find_run(src.get_run(parent)->uuid)));
  const auto ma = src.metrics(child), mb = dst.metrics(child_to);
  BOOST_REQUIRE_EQUAL(ma.size(), mb.size());
  bool exact = true;
  for (size_t i = 0; i < ma.size(); ++i) exact = exact && same_value(ma[i].value, mb[i].value);
  BOOST_TEST(exact);
  BOOST_TEST(dst.node_executions(child_to).at(0).cache_hit);
  BOOST_TEST(dst.artifacts(child_to).at(0).size == 42);
  // Queries answer the same on the copy.
  RunQuery q;
  q.filter = "metrics.eval.acc = 0.75 and params.lr < 0.5 and tags.note = 'héllo ✓'";
  q.columns = "name";
  const auto hits = run_query(ReadOnlyDb(b), q);
  BOOST_REQUIRE_EQUAL(hits.rows.size(), 1u);
  BOOST_TEST(std::get<std::string>(hits.rows[0][0]) == "child");
}

BOOST_DATA_TEST_CASE(a_spool_file_loads_once, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation where = fresh_store(backend, dir);
  Store s(where);
  const int64_t id = s.begin_run(start("r"));
  const fs::path spool = dir / "spool" / "m.jsonl";
  std::vector<MetricRow> odd = {{"n", "k\t\"q\"", 0, std::nan(""), 1.5},
                                {"n", "inf", 1, -std::numeric_limits<double>::infinity(), 2},
                                {"n", "x", 2, 0.1 + 0.2, 3}};
  append_to_spool(spool, {where.display(), id, "w", 1, ramp(4, 0.5)});
  append_to_spool(spool, {where.display(), id, "w", 2, odd});
  const auto back = read_spool(spool);
  BOOST_REQUIRE_EQUAL(back.size(), 2u);
  BOOST_TEST(back[1].rows[0].key == "k\t\"q\"");
  BOOST_TEST(std::isnan(back[1].rows[0].value));
  BOOST_TEST(back[1].rows[2].value == 0.1 + 0.2);
  // One batch already arrived (its commit's acknowledgement was what got lost).
  s.log_metric_batch(id, ramp(4, 0.5), "w", 1);
  ImportResult r = import_spool(s, spool);
  BOOST_TEST(r.batches == 1);
  BOOST_TEST(r.rows == 3);
  BOOST_TEST(r.skipped_batches == 1);
  r = import_spool(s, spool);
  BOOST_TEST(r.batches == 0);
  BOOST_TEST(s.metrics(id).size() == 7u);
  // A damaged line is named.
  write_file(dir / "bad.jsonl", "{\"store\": \"x\", \"run_id\": 1,\n");
  BOOST_CHECK_EXCEPTION(read_spool(dir / "bad.jsonl"), StoreError, [](const StoreError& e) {
    return contains(e.what(), "bad.jsonl:1: not a spooled metric batch");
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL only.

namespace {

// Stops (immediately, as a crash would) or starts the test server of with_postgres.sh.
void server(const std::string& action) {
  const char* data = std::getenv("FLOWLAB_TEST_POSTGRES_DATA");
  const char* bin = std::getenv("FLOWLAB_TEST_POSTGRES_BIN");
  BOOST_REQUIRE(data && bin);
  const std::string as_owner = getuid() == 0 ? "runuser -u postgres -- " : "";
  const std::string sockdir = fs::path(data).parent_path().string();
  const std::string cmd =
      action == "stop"
          ? fmt::format("{}{}/pg_ctl -D {} -m immediate -w stop >/dev/null 2>&1", as_owner, bin,
                        data)
          : fmt::format(
                "{}{}/pg_ctl -D {} -l {}/server.log -w -t 60 -o \"-c listen_addresses= "
                "-k {} -c fsync=off -c max_connections=200\" start >/dev/null 2>&1",
                as_owner, bin, data, sockdir, sockdir);
  BOOST_REQUIRE_EQUAL(std::system(cmd.c_str()), 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(flowlab_sql_on_postgresql_only_reads,
                     *boost::unit_test::precondition(have_postgres)) {
  TempDir dir;
  const StoreLocation where = fresh_store("postgresql", dir);
  {
    Store s(where);
    s.begin_run(start("r"));
  }
  const ReadOnlyDb db(where);
  BOOST_TEST(as_int(db.execute_user_sql("SELECT COUNT(*) FROM run_attributes").rows[0][0]) == 1);
  auto refused = [&](const std::string& sql, const std::string& why) {
    try {
      db.execute_user_sql(sql);
    } catch (const flowlab::ConfigError& e) {
      if (contains(e.what(), why)) return true;
      BOOST_TEST_MESSAGE(sql << ": " << e.what());
      return false;
    }
    return false;
  };
  BOOST_TEST(refused("DELETE FROM runs", "read-only"));
  BOOST_TEST(refused("CREATE TABLE x(a INT)", "read-only"));
  BOOST_TEST(refused("SELECT 1; DELETE FROM runs", "one SQL statement"));
  BOOST_TEST(refused("SELEC 1", "syntax error"));
  BOOST_TEST(refused("   ", "no SQL statement"));
  BOOST_TEST(as_int(db.execute_user_sql("SELECT COUNT(*) FROM runs").rows[0][0]) == 1);
  // The connection is still usable after a refused statement.
  BOOST_TEST(db.execute("SELECT name FROM runs").rows.size() == 1u);
}

// The server dies (immediate shutdown: as a crash) while a writer streams metrics and comes back
// two seconds later: the writer resends, every logged row is there exactly once.
BOOST_AUTO_TEST_CASE(a_writer_rides_out_a_server_restart,
                     *boost::unit_test::precondition(have_postgres)) {
  TempDir dir;
  const StoreLocation where = fresh_store("postgresql", dir);
  int64_t id = 0;
  {
    Store s(where);
    id = s.begin_run(start("r"));
  }
  MetricWriterOptions o;
  o.flush_interval_ms = 5;
  o.max_batch = 100;
  o.retry_seconds = 60;
  o.spool_dir = dir / "spool";
  constexpr int kRows = 20000;
  int64_t retries = 0;
  {
    MetricWriter w(where, id, o);
    std::thread logger([&] {
      for (int i = 0; i < kRows; ++i) {
        w.log("n", "x", i, i * 0.5);
        if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    server("stop");
    std::this_thread::sleep_for(std::chrono::seconds(2));
    server("start");
    logger.join();
    w.flush();  // no error: everything was written
    BOOST_TEST(w.rows_written() == kRows);
    BOOST_TEST(w.rows_spooled() == 0);
    retries = w.retries();
  }
  BOOST_TEST(retries > 0);  // the restart did happen under the writer
  Store s(where);
  const auto rows = s.metrics(id);
  BOOST_REQUIRE_EQUAL(rows.size(), static_cast<size_t>(kRows));
  bool each_once_in_order = true;
  for (int i = 0; i < kRows; ++i)
    each_once_in_order = each_once_in_order && rows[i].step == i && rows[i].value == i * 0.5;
  BOOST_TEST(each_once_in_order);
  BOOST_TEST(!fs::exists(dir / "spool"));
}

// The server stays away past the retry budget: flush() fails naming the spool file, nothing is
// lost, and the file loads once the server is back.
BOOST_AUTO_TEST_CASE(a_writer_that_gives_up_spools_and_the_spool_loads,
                     *boost::unit_test::precondition(have_postgres)) {
  TempDir dir;
  const StoreLocation where = fresh_store("postgresql", dir);
  int64_t id = 0;
  {
    Store s(where);
    id = s.begin_run(start("r"));
    s.log_metrics(id, ramp(10, 1.0));
  }
  MetricWriterOptions o;
  o.flush_interval_ms = 5;
  o.retry_seconds = 1;
  o.spool_dir = dir / "spool";
  std::string message;
  {
    MetricWriter w(where, id, o);
    for (int i = 10; i < 20; ++i) w.log("train", "loss", i, i);
    w.flush();
    server("stop");
    for (int i = 20; i < 30; ++i) w.log("train", "loss", i, i);
    try {
      w.flush();
    } catch (const StoreError& e) {
      message = e.what();
    }
    for (int i = 30; i < 35; ++i) w.log("train", "loss", i, i);  // straight to the spool
    try {
      w.flush();
    } catch (const StoreError&) {
    }
    BOOST_TEST(w.rows_written() == 10);
    BOOST_TEST(w.rows_spooled() == 15);
  }
  server("start");
  BOOST_TEST_MESSAGE("flush() said: " << message);
  BOOST_TEST(contains(message, "gave up after 1 s"));
  BOOST_TEST(contains(message, "flowlab store import"));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir / "spool")) files.push_back(e.path());
  BOOST_REQUIRE_EQUAL(files.size(), 1u);
  BOOST_TEST(contains(message, files[0].string()));
  Store s(where);
  BOOST_TEST(s.metrics(id).size() == 20u);
  const ImportResult r = import_spool(s, files[0]);
  BOOST_TEST(r.rows == 15);
  const auto rows = s.metrics(id);
  BOOST_REQUIRE_EQUAL(rows.size(), 35u);
  for (int i = 0; i < 35; ++i) BOOST_TEST(rows[i].step == i);
  BOOST_TEST(s.final_metrics(id).at(0).step == 34);
}

BOOST_AUTO_TEST_SUITE_END()
