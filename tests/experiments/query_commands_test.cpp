// Tests for `flowlab query`, `sql` and `compare` below the CLI wiring (experiments/cli/
// query_commands.h): output formats, the read-only guarantee of `sql`, and compare's rows.
#include "experiments/cli/query_commands.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/plot_data.h"
#include "tests/support/process.h"
#include "tests/support/raw_db.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
namespace tt = boost::test_tools;
using flowlab::ConfigError;
using flowlab::testing::RawDb;
using flowlab::testing::TempDir;
using namespace flowlab::cli;
using namespace flowlab::tracking;

namespace {

// Three runs in a workspace:
//   1 mnist/a FINISHED  lr 0.1  batch 64 adam seed 1  eval.accuracy 0.9  train.loss 0.25  note=x
//   2 mnist/b FAILED    lr 0.01 batch 64 adam seed 1  dropout 0.5  eval.accuracy 0.8  note=x
//   3 cifar/c RUNNING   lr 0.1  batch 64 sgd  seed 1  eval.accuracy 0.7  eval.f1 0.6
struct Workspace {
  TempDir dir;
  fs::path db = dir / "runs.db";
  Workspace() {
    Store s(db);
    auto begin = [&](const std::string& exp, const std::string& name) {
      RunStart r;
      r.experiment = exp;
      r.name = name;
      return s.begin_run(r);
    };
    const int64_t a = begin("mnist", "a");
    s.log_params(a, {{"lr", "0.1"}, {"batch", "64"}, {"opt", "adam"}, {"seed", "1"}});
    s.log_metrics(a, {{"eval", "accuracy", 0, 0.5, 1},
                      {"eval", "accuracy", 1, 0.9, 2},
                      {"train", "loss", 0, 0.25, 1}});
    s.set_tag(a, "note", "x");
    s.finish_run(a, RunStatus::kFinished);
    const int64_t b = begin("mnist", "b");
    s.log_params(
        b, {{"lr", "0.01"}, {"batch", "64"}, {"opt", "adam"}, {"seed", "1"}, {"dropout", "0.5"}});
    s.log_metrics(b, {{"eval", "accuracy", 0, 0.8, 1}});
    s.set_tag(b, "note", "x");
    s.finish_run(b, RunStatus::kFailed, "boom");
    const int64_t c = begin("cifar", "c");
    s.log_params(c, {{"lr", "0.1"}, {"batch", "64"}, {"opt", "sgd"}, {"seed", "1"}});
    s.log_metrics(c, {{"eval", "accuracy", 0, 0.7, 1}, {"eval", "f1", 0, 0.6, 1}});
  }
  const fs::path& path() const { return dir.path(); }

  // Everything a write could change, as one string.
  std::string fingerprint() const {
    RawDb raw(db);
    std::string out = raw.text("PRAGMA user_version") + "|" +
                      raw.text(
                          "SELECT group_concat(type || name || COALESCE(sql, ''), ';') FROM "
                          "(SELECT * FROM sqlite_master ORDER BY name)");
    for (const char* t : {"experiments", "runs", "params", "tags", "metrics", "latest_metrics",
                          "node_executions", "artifacts"})
      out += "|" + raw.text(std::string("SELECT COUNT(*) FROM ") + t);
    out += "|" + raw.text("SELECT group_concat(id || name || status, ',') FROM runs");
    out += "|" + raw.text("SELECT group_concat(run_id || key || value, ',') FROM tags");
    return out;
  }
};

std::vector<std::string> column(const Table& t, size_t c) {
  std::vector<std::string> out;
  for (const auto& row : t.rows) out.push_back(row.at(c));
  return out;
}

// The row whose first cell is `field`, or empty.
std::vector<std::string> row_of(const Table& t, const std::string& field) {
  for (const auto& row : t.rows)
    if (row.at(0) == field) return row;
  return {};
}

bool message_has(const std::exception& e, const std::string& needle) {
  const bool ok = std::string(e.what()).find(needle) != std::string::npos;
  if (!ok) BOOST_TEST_MESSAGE("message '" << e.what() << "' lacks '" << needle << "'");
  return ok;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_query_commands)

BOOST_AUTO_TEST_CASE(json_output_survives_names_that_are_not_utf8) {
  // A run name written by another tool in Latin-1: the listing shows U+FFFD in its place instead
  // of failing as a whole.
  Table t{{"id", "name"}, {{"1", "caf\xe9"}, {"2", "ok"}}, {true, false}};
  std::ostringstream out;
  BOOST_CHECK_NO_THROW(print(t, Format::kJson, out));
  BOOST_TEST(out.str().find("caf\xef\xbf\xbd") != std::string::npos);
  BOOST_TEST(out.str().find("\"ok\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(query_table_and_formats) {
  Workspace ws;
  RunQuery q;
  q.filter = "metrics.eval.accuracy >= 0.8";
  q.columns = "id,name,start_time,metrics.eval.accuracy,params.lr";
  q.sort = {"-metrics.eval.accuracy"};
  const Table t = query_table(ws.path(), q, Format::kTable);
  BOOST_TEST(t.columns == (std::vector<std::string>{"id", "name", "start_time",
                                                    "metrics.eval.accuracy", "params.lr"}),
             tt::per_element());
  BOOST_TEST(column(t, 0) == (std::vector<std::string>{"1", "2"}), tt::per_element());
  BOOST_TEST(column(t, 3) == (std::vector<std::string>{"0.9", "0.8"}), tt::per_element());
  BOOST_TEST(column(t, 4) == (std::vector<std::string>{"0.1", "0.01"}), tt::per_element());
  // In a table a time is a local date; in csv/json it stays unix seconds.
  BOOST_TEST(t.rows[0][2].size() == 19u);
  BOOST_TEST(t.rows[0][2][4] == '-');
  BOOST_TEST(t.numeric == (std::vector<bool>{true, false, false, true, false}), tt::per_element());
  const Table csv = query_table(ws.path(), q, Format::kCsv);
  BOOST_TEST(std::stod(csv.rows[0][2]) > 1.7e9);

  std::ostringstream json;
  query_runs(ws.path(), q, Format::kJson, json);
  BOOST_TEST(json.str().find("\"metrics.eval.accuracy\": 0.9") != std::string::npos, json.str());
  BOOST_TEST(json.str().find("\"params.lr\": \"0.1\"") != std::string::npos, json.str());
  std::ostringstream text;
  query_runs(ws.path(), q, Format::kCsv, text);
  BOOST_TEST(text.str().rfind("id,name,start_time,metrics.eval.accuracy,params.lr\n1,a,", 0) == 0,
             text.str());

  // Default columns follow the filter; a malformed filter is reported before the database is
  // opened, so it is a syntax error even where there is no database.
  q.columns.clear();
  q.sort.clear();
  q.filter = "tags.note = 'x' and status != 'RUNNING'";
  BOOST_TEST(query_table(ws.path(), q, Format::kTable).columns ==
                 (std::vector<std::string>{"id", "experiment", "name", "status", "tags.note"}),
             tt::per_element());
  TempDir empty;
  q.filter = "metrics.x >";
  BOOST_CHECK_THROW(query_table(empty.path(), q, Format::kTable), QuerySyntaxError);
  q.filter = "metrics.x > 1";
  BOOST_CHECK_EXCEPTION(query_table(empty.path(), q, Format::kTable), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "no results database"); });
}

BOOST_AUTO_TEST_CASE(sql_reads_views) {
  Workspace ws;
  const Table t = sql_table(ws.path(),
                            "SELECT a.run_id, a.name, f.value FROM run_attributes a JOIN "
                            "final_metrics f USING (run_id) WHERE f.node = 'eval' AND "
                            "f.key = 'accuracy' ORDER BY f.value DESC;  -- best first");
  BOOST_TEST(t.columns == (std::vector<std::string>{"run_id", "name", "value"}), tt::per_element());
  BOOST_TEST(column(t, 0) == (std::vector<std::string>{"1", "2", "3"}), tt::per_element());
  BOOST_TEST(column(t, 2) == (std::vector<std::string>{"0.9", "0.8", "0.7"}), tt::per_element());
  BOOST_TEST(t.numeric == (std::vector<bool>{true, false, true}), tt::per_element());

  const Table p = sql_table(ws.path(),
                            "SELECT run_id, value FROM run_params WHERE key = 'lr' "
                            "AND flowlab_number(value) < 0.05");
  BOOST_TEST(column(p, 0) == std::vector<std::string>{"2"}, tt::per_element());

  std::ostringstream out;
  run_sql(ws.path(), "SELECT COUNT(*) AS n, NULL AS missing FROM run_metrics", Format::kJson, out);
  BOOST_TEST(out.str().find("\"n\": 6,") != std::string::npos, out.str());
  BOOST_TEST(out.str().find("\"missing\": null") != std::string::npos, out.str());

  BOOST_CHECK_EXCEPTION(sql_table(ws.path(), "SELEC 1"), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "syntax error"); });
  BOOST_CHECK_EXCEPTION(sql_table(ws.path(), "SELECT * FROM nope"), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "no such table"); });
  BOOST_CHECK_EXCEPTION(sql_table(ws.path(), "  -- nothing "), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "no SQL statement"); });
}

BOOST_AUTO_TEST_CASE(sql_refuses_writes_and_changes_nothing) {
  Workspace ws;
  const std::string before = ws.fingerprint();
  const fs::path copy = ws.dir / "copy.db";
  const fs::path attached = ws.dir / "attached.db";
  const std::vector<std::string> writes = {
      "INSERT INTO experiments(name, created_at) VALUES ('x', 0)",
      "UPDATE runs SET name = 'hacked'",
      "DELETE FROM runs",
      "DELETE FROM metrics WHERE 1",
      "REPLACE INTO tags(run_id, key, value) VALUES (1, 'note', 'y')",
      "WITH doomed AS (SELECT id FROM runs) DELETE FROM runs WHERE id IN doomed",
      "DROP TABLE metrics",
      "DROP VIEW run_params",
      "CREATE TABLE t(x)",
      "CREATE INDEX i ON runs(name)",
      "ALTER TABLE runs ADD COLUMN x",
      "PRAGMA user_version = 99",
      "VACUUM",
      "VACUUM INTO '" + copy.string() + "'",
      "ATTACH DATABASE '" + attached.string() + "' AS other",
      "SELECT 1; DROP TABLE runs",
      "SELECT 1; UPDATE runs SET name = 'x'",
      "BEGIN; DELETE FROM runs; COMMIT",
  };
  for (const auto& sql : writes) {
    bool refused = false;
    try {
      sql_table(ws.path(), sql);
    } catch (const ConfigError& e) {
      refused = true;
      BOOST_TEST_MESSAGE(sql << "  ->  " << e.what());
    }
    BOOST_TEST(refused, "not refused: " << sql);
    BOOST_TEST(ws.fingerprint() == before, "changed by: " << sql);
  }
  BOOST_TEST(!fs::exists(copy));
  BOOST_TEST(!fs::exists(attached));
  // The message says why.
  BOOST_CHECK_EXCEPTION(sql_table(ws.path(), "DELETE FROM runs"), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "read-only"); });
  BOOST_CHECK_EXCEPTION(sql_table(ws.path(), "SELECT 1; SELECT 2"), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "one SQL statement"); });

  // Underneath the statement check, the connection itself cannot write: flowlab's own execute()
  // path skips the check, and SQLite still refuses.
  ReadOnlyDb ro(ws.db);
  BOOST_CHECK_EXCEPTION(ro.execute("DELETE FROM runs"), StoreError,
                        [](const StoreError& e) { return message_has(e, "readonly"); });
  BOOST_TEST(std::get<int64_t>(ro.execute("PRAGMA query_only").rows.at(0).at(0)) == 1);
  BOOST_TEST(ws.fingerprint() == before);
}

BOOST_AUTO_TEST_CASE(compare_shows_differences_side_by_side) {
  Workspace ws;
  const Table t = compare_table(ws.path(), {"1", "2"}, false);
  BOOST_TEST(t.columns == (std::vector<std::string>{"field", "run 1", "run 2"}), tt::per_element());
  BOOST_TEST(column(t, 0) == (std::vector<std::string>{
                                 "experiment", "name", "status", "params.dropout", "params.lr",
                                 "metrics.eval.accuracy", "metrics.train.loss"}),
             tt::per_element());
  BOOST_TEST(row_of(t, "status") == (std::vector<std::string>{"status", "FINISHED", "FAILED"}),
             tt::per_element());
  BOOST_TEST(row_of(t, "params.dropout") == (std::vector<std::string>{"params.dropout", "", "0.5"}),
             tt::per_element());
  BOOST_TEST(row_of(t, "params.lr") == (std::vector<std::string>{"params.lr", "0.1", "0.01"}),
             tt::per_element());
  BOOST_TEST(row_of(t, "metrics.eval.accuracy") ==
                 (std::vector<std::string>{"metrics.eval.accuracy", "0.9", "0.8"}),
             tt::per_element());
  BOOST_TEST(row_of(t, "metrics.train.loss") ==
                 (std::vector<std::string>{"metrics.train.loss", "0.25", ""}),
             tt::per_element());

  // --all adds the equal ones; a third run makes opt differ and brings eval.f1.
  const Table all = compare_table(ws.path(), {"1", "2"}, true);
  for (const char* f : {"params.batch", "params.opt", "params.seed", "tags.note"})
    BOOST_TEST(!row_of(all, f).empty(), "missing " << f);
  BOOST_TEST(row_of(all, "tags.note") == (std::vector<std::string>{"tags.note", "x", "x"}),
             tt::per_element());
  const Table three = compare_table(ws.path(), {"1", "2", "last"}, false);
  BOOST_TEST(three.columns.back() == "run 3");
  BOOST_TEST(row_of(three, "params.opt") ==
                 (std::vector<std::string>{"params.opt", "adam", "adam", "sgd"}),
             tt::per_element());
  BOOST_TEST(row_of(three, "tags.note") == (std::vector<std::string>{"tags.note", "x", "x", ""}),
             tt::per_element());
  BOOST_TEST(row_of(three, "metrics.eval.f1") ==
                 (std::vector<std::string>{"metrics.eval.f1", "", "", "0.6"}),
             tt::per_element());
  BOOST_TEST(row_of(three, "params.batch").empty());

  std::ostringstream out;
  compare_runs(ws.path(), {"2", "1"}, false, Format::kTable, out);
  BOOST_TEST(out.str().rfind("field", 0) == 0u, out.str());
  BOOST_TEST(out.str().find("run 2") < out.str().find("run 1"), out.str());  // in the order given
  BOOST_TEST(out.str().find("--all shows them") != std::string::npos);

  BOOST_CHECK_EXCEPTION(compare_table(ws.path(), {"1"}, false), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "at least two runs"); });
  BOOST_CHECK_EXCEPTION(compare_table(ws.path(), {"1", "99"}, false), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "no run with id 99"); });
  BOOST_CHECK_EXCEPTION(compare_table(ws.path(), {"1", "x1"}, false), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "expected a run id"); });
}

BOOST_AUTO_TEST_CASE(show_of_a_large_sweep_lists_the_first_children_and_counts_all) {
  // 70 children (65 FINISHED, 5 FAILED): `show` prints 30 rows, then the counts and the query
  // that lists them all; a test_accuracy is the headline when there is no accuracy.
  TempDir dir;
  {
    Store s(dir / "runs.db");
    RunStart parent;
    parent.experiment = "dsd";
    parent.name = "sweep";
    const int64_t p = s.begin_run(parent);
    for (int i = 0; i < 70; ++i) {
      RunStart c = parent;
      c.name = "child" + std::to_string(i);
      c.parent_id = p;
      c.overrides = "[\"data.n_train=" + std::to_string(i) + "\"]";
      const int64_t id = s.begin_run(c);
      s.log_metrics(id, {{"train", "test_accuracy", 0, 0.5 + i / 1000.0}});
      s.finish_run(id, i % 14 == 3 ? RunStatus::kFailed : RunStatus::kFinished);
    }
    s.finish_run(p, RunStatus::kFinished);
  }
  std::ostringstream out;
  show_run(dir.path(), "1", Format::kTable, out);
  const std::string text = out.str();
  BOOST_TEST(text.find("data.n_train=29") != std::string::npos);
  BOOST_TEST(text.find("data.n_train=30") == std::string::npos);
  BOOST_TEST(text.find("0.529") != std::string::npos);  // child 29's test_accuracy
  BOOST_TEST(text.find("... 70 children in all: 5 FAILED, 65 FINISHED  (every child: flowlab query "
                       "\"parent_id = 1\" --format csv)") != std::string::npos,
             text.substr(0, 3000));
}

// Issue 11 item 6: every reading command works in a workspace the user cannot write (directory and
// database read-only). Tests run as root here, whom file modes do not stop, so each command runs
// in a child that drops to nobody; a command fails the check by throwing (the child exits 1).
BOOST_AUTO_TEST_CASE(reading_commands_work_in_a_read_only_workspace) {
  Workspace ws;
  BOOST_REQUIRE(!fs::exists(ws.dir / "runs.db-wal"));  // closed cleanly: no -wal, no -shm
  const std::string before = ws.fingerprint();
  flowlab::testing::ReadOnlyDir read_only(ws.path());
  const fs::path log = fs::temp_directory_path() / ("flowlab-roq-" + std::to_string(getpid()));
  auto in_child = [&](const std::string& what, auto body) {
    const int rc = flowlab::testing::wait_child(flowlab::testing::fork_child(
        [&] {
          flowlab::testing::drop_root_privileges();
          std::ostringstream out;
          body(out);
          if (out.str().empty()) throw std::runtime_error("printed nothing");
        },
        log));
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(rc == 0, what << " in a read-only workspace: " << text);
    fs::remove(log);
  };
  in_child("runs", [&](std::ostream& out) { list_runs(ws.path(), 20, Format::kTable, out); });
  in_child("show", [&](std::ostream& out) { show_run(ws.path(), "last", Format::kJson, out); });
  in_child("query", [&](std::ostream& out) {
    RunQuery q;
    q.filter = "metrics.eval.accuracy >= 0.8";
    query_runs(ws.path(), q, Format::kCsv, out);
  });
  in_child("sql", [&](std::ostream& out) {
    run_sql(ws.path(), "SELECT COUNT(*) FROM run_attributes", Format::kCsv, out);
  });
  in_child("compare", [&](std::ostream& out) {
    compare_runs(ws.path(), {"1", "2"}, false, Format::kCsv, out);
  });
  in_child("plot", [&](std::ostream& out) {
    PlotQuery q;
    q.y = {"eval.accuracy"};
    q.x = "lr";
    q.experiment = "mnist";
    q.any_status = true;
    out << load_plot_data(ws.db, q).rows.size();
  });
  BOOST_TEST(ws.fingerprint() == before);
}

BOOST_AUTO_TEST_SUITE_END()
