// Tests for run housekeeping in the store (migration 5): soft delete and restore, the views that
// hide deleted runs (list_runs, queries, readers), purging rows, tags set and removed, and the
// cache references gc reads.
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <sqlite3.h>

#include "tests/support/raw_db.h"
#include "tests/support/store_backends.h"
#include "tests/support/temp_dir.h"
#include "tracking/query.h"
#include "tracking/reader.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::testing::fresh_store;
using flowlab::testing::RawDb;
using flowlab::testing::RawStore;
using flowlab::testing::store_backends;
using flowlab::testing::TempDir;
namespace data = boost::unit_test::data;
using namespace flowlab::tracking;

namespace {

int64_t begin(Store& s, const std::string& name, std::optional<int64_t> parent = std::nullopt) {
  RunStart r;
  r.experiment = "exp";
  r.name = name;
  r.parent_id = parent;
  return s.begin_run(r);
}

std::vector<int64_t> ids_of(const std::vector<RunRow>& runs) {
  std::vector<int64_t> out;
  for (const auto& r : runs) out.push_back(r.id);
  return out;
}

std::vector<int64_t> query_ids(const StoreLocation& db, const std::string& filter, RunView view) {
  const ReadOnlyDb ro(db);
  RunQuery q;
  q.filter = filter;
  q.columns = "id";
  q.sort = {"id"};
  q.view = view;
  std::vector<int64_t> out;
  for (const auto& row : run_query(ro, q).rows) out.push_back(std::get<int64_t>(row[0]));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(run_lifecycle)

BOOST_AUTO_TEST_CASE(migration_5_adds_deleted_at_and_keeps_every_run_active) {
  TempDir dir;
  const fs::path db = dir / "runs.db";
  {
    Store v4(db, 4);
    begin(v4, "a");
    begin(v4, "b");
  }
  Store s(db, 5);
  BOOST_TEST(s.schema_version() == 5);
  BOOST_TEST(s.list_runs(0).size() == 2u);
  BOOST_TEST(!s.get_run(1)->deleted_at.has_value());
  RawDb raw(db);
  BOOST_TEST(raw.text("SELECT lifecycle_stage FROM run_attributes WHERE run_id = 1") == "active");
  BOOST_TEST(raw.text("SELECT COUNT(*) FROM run_attributes WHERE deleted_at IS NULL") == "2");
}

BOOST_DATA_TEST_CASE(deleted_runs_are_hidden_unless_the_view_asks_and_restore_brings_them_back,
                     data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t a = begin(s, "a"), b = begin(s, "b"), c = begin(s, "c");
  BOOST_TEST(s.set_deleted({b}, true) == 1);
  BOOST_TEST(s.set_deleted({b}, true) == 0);  // already deleted: nothing changes
  BOOST_TEST((ids_of(s.list_runs(0)) == std::vector<int64_t>{c, a}));
  BOOST_TEST((ids_of(s.list_runs(0, RunView::kDeletedOnly)) == std::vector<int64_t>{b}));
  BOOST_TEST((ids_of(s.list_runs(0, RunView::kAll)) == std::vector<int64_t>{c, b, a}));
  BOOST_TEST(s.get_run(b)->deleted_at.has_value());  // an explicit id still finds it
  BOOST_TEST(s.set_deleted({b}, false) == 1);
  BOOST_TEST((ids_of(s.list_runs(0)) == std::vector<int64_t>{c, b, a}));
  BOOST_TEST(!s.get_run(b)->deleted_at.has_value());
}

BOOST_DATA_TEST_CASE(with_descendants_lists_a_sweep_below_its_parent, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t other = begin(s, "other");
  const int64_t p = begin(s, "sweep (sweep)");
  const int64_t c1 = begin(s, "c1", p), c2 = begin(s, "c2", p);
  const int64_t g = begin(s, "g", c2);
  BOOST_TEST((s.with_descendants({p}) == std::vector<int64_t>{p, c1, c2, g}));
  BOOST_TEST((s.with_descendants({c2, p}) == std::vector<int64_t>{c2, p, g, c1}));
  BOOST_TEST((s.with_descendants({other}) == std::vector<int64_t>{other}));
}

BOOST_DATA_TEST_CASE(purge_removes_the_runs_and_their_rows_and_nothing_else,
                     data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t keep = begin(s, "keep");
  const int64_t p = begin(s, "sweep (sweep)");
  const int64_t c = begin(s, "c", p);
  for (int64_t id : {keep, p, c}) {
    s.log_params(id, {{"lr", "0.1"}});
    s.log_metrics(id, {{"eval", "acc", 0, 0.5, 1}});
    s.set_tag(id, "owner", "ana");
    s.record_node(id, NodeExecution{"n", "op", "key" + std::to_string(id), "FINISHED"});
    s.record_artifact(id, ArtifactRow{"n", "/x", "file", "", 1});
  }
  BOOST_TEST(s.purge_runs({p}) == 2);  // the parent and its child
  BOOST_TEST((ids_of(s.list_runs(0, RunView::kAll)) == std::vector<int64_t>{keep}));
  RawStore raw(db);
  for (const char* table :
       {"params", "metrics", "latest_metrics", "tags", "node_executions", "artifacts"}) {
    BOOST_TEST(raw.integer(std::string("SELECT COUNT(*) FROM ") + table) == 1, table);
    BOOST_TEST(raw.integer(std::string("SELECT MIN(run_id) FROM ") + table) == keep, table);
  }
  // Ids are never reused after a purge.
  BOOST_TEST(begin(s, "next") == c + 1);
}

BOOST_DATA_TEST_CASE(tags_are_set_together_replaced_and_deleted, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t a = begin(s, "a");
  s.set_tags(a, {{"owner", "ana"}, {"purpose", "baseline"}});
  s.set_tags(a, {{"owner", "bo"}});
  BOOST_TEST(
      (s.tags(a) == std::map<std::string, std::string>{{"owner", "bo"}, {"purpose", "baseline"}}));
  BOOST_TEST(s.delete_tag(a, "purpose"));
  BOOST_TEST(!s.delete_tag(a, "purpose"));
  BOOST_TEST((s.tags(a) == std::map<std::string, std::string>{{"owner", "bo"}}));
}

BOOST_DATA_TEST_CASE(queries_hide_deleted_runs_unless_the_view_asks, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t a = begin(s, "a"), b = begin(s, "b"), c = begin(s, "c");
  for (int64_t id : {a, b}) s.set_tag(id, "owner", "ana");
  s.set_tag(c, "owner", "bo");
  s.set_deleted({b}, true);
  BOOST_TEST(
      (query_ids(db, "tags.owner = 'ana'", RunView::kActiveOnly) == std::vector<int64_t>{a}));
  BOOST_TEST(
      (query_ids(db, "tags.owner = 'ana'", RunView::kDeletedOnly) == std::vector<int64_t>{b}));
  BOOST_TEST((query_ids(db, "tags.owner = 'ana'", RunView::kAll) == std::vector<int64_t>{a, b}));
  BOOST_TEST((query_ids(db, "", RunView::kActiveOnly) == std::vector<int64_t>{a, c}));
  BOOST_TEST(
      (query_ids(db, "lifecycle_stage = 'deleted'", RunView::kAll) == std::vector<int64_t>{b}));
  BOOST_TEST((query_ids(db, "deleted_at > 0", RunView::kAll) == std::vector<int64_t>{b}));
  // An OR at the top still applies only within the view.
  BOOST_TEST((query_ids(db, "tags.owner = 'ana' or tags.owner = 'bo'", RunView::kActiveOnly) ==
              std::vector<int64_t>{a, c}));
}

BOOST_AUTO_TEST_CASE(queries_work_on_a_version_4_file_that_is_not_migrated) {
  TempDir dir;
  const fs::path db = dir / "runs.db";
  {
    Store v4(db, 4);
    const int64_t a = begin(v4, "a");
    v4.set_tag(a, "owner", "ana");
  }
  BOOST_TEST(
      (query_ids(db, "tags.owner = 'ana'", RunView::kActiveOnly) == std::vector<int64_t>{1}));
  BOOST_TEST(query_ids(db, "", RunView::kDeletedOnly).empty());
  BOOST_TEST(
      (query_ids(db, "lifecycle_stage = 'active'", RunView::kAll) == std::vector<int64_t>{1}));
  const Store ro(db, Store::Access::kReadOnly);
  BOOST_TEST(ro.list_runs(0).size() == 1u);
  BOOST_TEST(ro.list_runs(0, RunView::kDeletedOnly).empty());
}

BOOST_DATA_TEST_CASE(readers_leave_deleted_runs_out_of_results, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  RunStart r;
  r.experiment = "old";
  r.name = "x";
  const int64_t old_run = s.begin_run(r);
  r.experiment = "new";
  const int64_t new_run = s.begin_run(r);
  s.set_deleted({new_run}, true);
  const RunReader reader(db);
  std::vector<int64_t> ids;
  for (const auto& info : reader.runs_except_sweep_parents()) ids.push_back(info.id);
  BOOST_TEST((ids == std::vector<int64_t>{old_run}));
  BOOST_TEST(reader.newest_experiment() == "old");
  BOOST_TEST((reader.experiments() == std::vector<std::string>{"old"}));
}

BOOST_DATA_TEST_CASE(cache_references_give_each_key_and_run_once_with_the_last_use,
                     data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t a = begin(s, "a"), b = begin(s, "b");
  s.record_node(a, NodeExecution{"n1", "op", "k1", "FINISHED", false, 10, 20});
  s.record_node(a, NodeExecution{"n2", "op", "k1", "FINISHED", true, 30, 40});
  s.record_node(b, NodeExecution{"n1", "op", "k1", "FINISHED", true, 50, 55});
  s.record_node(b, NodeExecution{"n3", "op", "", "SKIPPED"});
  const auto refs = s.cache_references();
  BOOST_TEST_REQUIRE(refs.size() == 2u);
  BOOST_TEST(refs[0].cache_key == "k1");
  BOOST_TEST(refs[0].run_id == a);
  BOOST_TEST(refs[0].last_used == 40);
  BOOST_TEST(refs[1].run_id == b);
  BOOST_TEST(refs[1].last_used == 55);
}

BOOST_DATA_TEST_CASE(scheduled_runs_wait_for_their_job, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  Store s(db);
  const int64_t id = begin(s, "queued");
  s.schedule_runs({id});
  auto run = s.get_run(id);
  BOOST_TEST((run->status == RunStatus::kScheduled));
  BOOST_TEST(run->pid == 0);
  BOOST_TEST(!run->heartbeat.has_value());
  BOOST_TEST(
      query_ids(db, "status = 'scheduled'", RunView::kActiveOnly) == std::vector<int64_t>{id},
      boost::test_tools::per_element());
  BOOST_CHECK_THROW(s.finish_run(id, RunStatus::kScheduled), StoreError);
  BOOST_CHECK_THROW(s.schedule_runs({id + 100}), StoreError);
  const double submitted = s.get_run(id)->start_time;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.claim_run(id, "node7", 4242);  // the job starts it: its clock starts now
  BOOST_TEST((s.get_run(id)->status == RunStatus::kRunning));
  BOOST_TEST(s.get_run(id)->pid == 4242);
  BOOST_TEST(s.get_run(id)->host == "node7");
  BOOST_TEST(s.get_run(id)->start_time > submitted);
  // A sweep's parent keeps its submission time.
  const int64_t parent = begin(s, "sweep");
  s.schedule_runs({parent});
  const double parent_submitted = s.get_run(parent)->start_time;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.claim_run(parent, "node7", 4243, /*start_clock=*/false);
  BOOST_TEST(s.get_run(parent)->start_time == parent_submitted);
  BOOST_TEST((s.get_run(parent)->status == RunStatus::kRunning));
}

BOOST_AUTO_TEST_CASE(migration_7_widens_the_status_check_and_keeps_every_row) {
  TempDir dir;
  const fs::path db = dir / "runs.db";
  int64_t id = 0;
  {
    Store v6(db, 6);
    id = begin(v6, "a");
    v6.log_params(id, {{"lr", "0.1"}});
    RawDb raw(db);
    BOOST_TEST(raw.exec("UPDATE runs SET status = 'SCHEDULED'") == SQLITE_CONSTRAINT);
  }
  Store s(db);
  BOOST_TEST(s.schema_version() == 7);
  s.schedule_runs({id});
  BOOST_TEST((s.get_run(id)->status == RunStatus::kScheduled));
  BOOST_TEST(s.params(id).at("lr") == "0.1");
  RawDb raw(db);
  BOOST_TEST(raw.exec("UPDATE runs SET status = 'DONE'") == SQLITE_CONSTRAINT);  // still checked
  BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
  BOOST_TEST(raw.text("SELECT lifecycle_stage FROM run_attributes") == "active");  // views intact
}

BOOST_AUTO_TEST_SUITE_END()
