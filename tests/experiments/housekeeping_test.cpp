// Tests for `flowlab cache du|gc`, `delete`, `restore` and `tag` below the CLI wiring
// (experiments/cli/housekeeping.h): what gc keeps and removes, that a dry run lists exactly what
// gc then removes, --older-than, soft delete and restore, purge, tags from the command and from
// a spec, and that a bad RUN changes nothing.
#include "experiments/cli/housekeeping.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "common/error.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/query_commands.h"
#include "graph/cache.h"
#include "graph/plan.h"
#include "tests/support/config_error.h"
#include "tests/support/fake_ops.h"
#include "tests/support/raw_db.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::ConfigError;
using flowlab::NodeCache;
using flowlab::testing::contains;
using flowlab::testing::RawDb;
using flowlab::testing::TempDir;
using namespace flowlab::cli;
using namespace flowlab::tracking;

namespace {

// A pid that no process has: a child that exited and was reaped.
int64_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

void set_mtime_days_ago(const fs::path& p, double days) {
  const auto t =
      fs::file_time_type::clock::now() - std::chrono::duration_cast<fs::file_time_type::duration>(
                                             std::chrono::duration<double>(days * 86400));
  fs::last_write_time(p, t);
  if (fs::is_directory(p))
    for (const auto& f : fs::recursive_directory_iterator(p)) fs::last_write_time(f.path(), t);
}

std::string key_of(const std::string& name) {
  // 32 hex digits, distinct per name, spread over a few shards.
  return fmt::format("{:032x}", std::hash<std::string>{}(name));
}

// A workspace with a results database and a node cache.
struct Workspace {
  TempDir dir;
  fs::path ws = dir / "ws";
  Store store{ws / "runs.db"};
  NodeCache cache{ws / "cache"};

  // A cache entry holding `bytes` bytes of payload.
  std::string entry(const std::string& name, size_t bytes = 100, const std::string& op = "op.x") {
    const std::string key = key_of(name);
    const fs::path staging = cache.stage(key);
    std::ofstream(staging / "files" / "data.bin") << std::string(bytes, 'x');
    flowlab::CacheRecord record;
    record.op = op;
    record.node = name;
    record.files.push_back({"data.bin", "blob"});
    cache.commit(staging, key, record);
    return key;
  }
  bool has(const std::string& name) const { return fs::exists(cache.entry(key_of(name))); }

  // A run whose nodes used `entries`, ended with `status` (RUNNING: still going, in this
  // process unless `pid` says otherwise).
  int64_t run(RunStatus status, const std::vector<std::string>& entries,
              std::optional<int64_t> parent = std::nullopt, int64_t pid = getpid(),
              double node_time = flowlab::unix_now()) {
    RunStart r;
    r.experiment = "exp";
    r.name = "run";
    r.parent_id = parent;
    r.host = flowlab::local_host_name();
    r.pid = pid;
    const int64_t id = store.begin_run(r);
    for (const auto& e : entries)
      store.record_node(
          id, NodeExecution{e, "op.x", key_of(e), "FINISHED", false, node_time, node_time});
    if (status != RunStatus::kRunning) store.finish_run(id, status);
    return id;
  }

  std::set<std::string> removed_names(const GcResult& r, const std::vector<std::string>& names) {
    std::set<std::string> out;
    for (const auto& c : r.removed)
      for (const auto& n : names)
        if (c.entry.key == key_of(n)) out.insert(n);
    return out;
  }
};

const std::vector<std::string> kAll = {"finished", "failed", "stale",  "live",   "deleted",
                                       "orphan",   "shared", "newest", "pinned", "other_failed"};

// Every kind of reference, each entry used by exactly the runs its name says (newest last).
struct GcScene : Workspace {
  int64_t finished, failed, stale, live, deleted, newest;
  // A running executor has looked "pinned" up but not yet recorded it.
  std::unique_ptr<flowlab::CachePin> pin;
  GcScene() {
    pin = std::make_unique<flowlab::CachePin>(ws / "cache", std::vector{key_of("pinned")});
    for (const auto& n : kAll) entry(n);
    finished = run(RunStatus::kFinished, {"finished", "shared"});
    failed = run(RunStatus::kFailed, {"failed", "shared", "other_failed"});
    stale = run(RunStatus::kRunning, {"stale"}, std::nullopt, dead_pid());
    live = run(RunStatus::kRunning, {"live"});
    deleted = run(RunStatus::kFinished, {"deleted"});
    store.set_deleted({deleted}, true);
    newest = run(RunStatus::kFailed, {"newest"});
  }
};

const std::set<std::string> kGoes = {"failed", "stale", "deleted", "orphan", "other_failed"};

}  // namespace

BOOST_AUTO_TEST_SUITE(housekeeping)

BOOST_AUTO_TEST_CASE(gc_keeps_what_running_finished_newest_runs_and_pins_use) {
  GcScene s;
  GcOptions options;
  const GcResult r = collect_garbage(s.ws, options);
  BOOST_TEST(s.removed_names(r, kAll) == kGoes);
  BOOST_TEST(r.removed.size() == kGoes.size());  // nothing else
  for (const auto& n : kAll) BOOST_TEST(s.has(n) == !kGoes.count(n), n);
  BOOST_TEST(r.kept_entries == static_cast<int64_t>(kAll.size() - kGoes.size()));
  s.pin.reset();  // once its process is done, the pinned entry is garbage
  BOOST_TEST(
      (s.removed_names(collect_garbage(s.ws, options), kAll) == std::set<std::string>{"pinned"}));
  // Each removal says why.
  for (const auto& c : r.removed) {
    if (c.entry.key == key_of("orphan")) BOOST_TEST(c.reason == "no run references it");
    if (c.entry.key == key_of("stale"))
      BOOST_TEST(c.reason == fmt::format("only run {} (STALE)", s.stale));
    if (c.entry.key == key_of("deleted"))
      BOOST_TEST(c.reason == fmt::format("only run {} (deleted)", s.deleted));
  }
}

BOOST_AUTO_TEST_CASE(a_dry_run_removes_nothing_and_lists_exactly_what_gc_then_removes) {
  GcScene s;
  GcOptions dry;
  dry.dry_run = true;
  const GcResult listed = collect_garbage(s.ws, dry);
  for (const auto& n : kAll) BOOST_TEST(s.has(n), n);
  std::ostringstream out;
  cache_gc(s.ws, dry, false, Format::kCsv, out);
  for (const auto& n : kAll) BOOST_TEST(contains(out.str(), key_of(n)) == (kGoes.count(n) > 0), n);
  for (const auto& n : kAll) BOOST_TEST(s.has(n), n);  // printing it removed nothing either

  const GcResult done = collect_garbage(s.ws, GcOptions{});
  std::set<std::string> a, b;
  for (const auto& c : listed.removed) a.insert(c.entry.key);
  for (const auto& c : done.removed) b.insert(c.entry.key);
  BOOST_TEST(a == b);
  BOOST_TEST(listed.removed_bytes == done.removed_bytes);
  // And a second gc finds nothing more.
  BOOST_TEST(collect_garbage(s.ws, GcOptions{}).removed.empty());
}

BOOST_AUTO_TEST_CASE(keep_last_0_lets_the_newest_failed_run_go_and_2_keeps_two) {
  GcScene s;
  GcOptions options;
  options.dry_run = true;
  options.keep_last = 0;
  auto goes = kGoes;
  goes.insert("newest");
  BOOST_TEST(s.removed_names(collect_garbage(s.ws, options), kAll) == goes);
  options.keep_last = 3;  // newest, deleted (not counted: deleted), live, stale
  goes = kGoes;
  goes.erase("stale");
  BOOST_TEST(s.removed_names(collect_garbage(s.ws, options), kAll) == goes);
}

BOOST_AUTO_TEST_CASE(a_sweep_that_is_newest_keeps_every_childs_entries) {
  Workspace w;
  for (const auto& n : {"c1", "c2", "old"}) w.entry(n);
  w.run(RunStatus::kFailed, {"old"});
  const int64_t parent = w.run(RunStatus::kKilled, {});
  w.run(RunStatus::kFailed, {"c1"}, parent);
  w.run(RunStatus::kKilled, {"c2"}, parent);
  const GcResult r = collect_garbage(w.ws, GcOptions{});
  BOOST_TEST((w.removed_names(r, {"c1", "c2", "old"}) == std::set<std::string>{"old"}));
  BOOST_TEST(w.has("c1"));
  BOOST_TEST(w.has("c2"));
}

BOOST_AUTO_TEST_CASE(older_than_removes_only_entries_unused_for_that_long) {
  Workspace w;
  w.entry("fresh_orphan");
  w.entry("old_orphan");
  w.entry("old_file_recent_use");
  w.entry("old_failed");
  for (const auto& n : {"old_orphan", "old_file_recent_use", "old_failed"})
    set_mtime_days_ago(w.cache.entry(key_of(n)), 40);
  const double long_ago = flowlab::unix_now() - 40 * 86400;
  w.run(RunStatus::kFailed, {"old_failed"}, std::nullopt, getpid(), long_ago);
  w.run(RunStatus::kFailed, {"old_file_recent_use"});  // used just now
  w.run(RunStatus::kFinished, {});                     // the newest run uses nothing
  GcOptions options;
  options.older_than_s = parse_duration("30d");
  const GcResult r = collect_garbage(w.ws, options);
  BOOST_TEST(
      (w.removed_names(r, {"fresh_orphan", "old_orphan", "old_file_recent_use", "old_failed"}) ==
       std::set<std::string>{"old_orphan", "old_failed"}));
  BOOST_TEST(w.has("fresh_orphan"));
  BOOST_TEST(w.has("old_file_recent_use"));
}

BOOST_AUTO_TEST_CASE(durations_parse_as_mlflow_writes_them) {
  BOOST_TEST(parse_duration("30d") == 30 * 86400.0);
  BOOST_TEST(parse_duration("1d12h") == 36 * 3600.0);
  BOOST_TEST(parse_duration("90m") == 5400.0);
  BOOST_TEST(parse_duration("2w") == 14 * 86400.0);
  BOOST_TEST(parse_duration("45s") == 45.0);
  BOOST_TEST(parse_duration("120") == 120.0);
  for (const char* bad : {"", "d", "3x", "1d2", "-5", "1.2.3h"})
    BOOST_CHECK_THROW(parse_duration(bad), ConfigError);
}

BOOST_AUTO_TEST_CASE(gc_removes_staging_left_by_dead_processes_only) {
  Workspace w;
  w.run(RunStatus::kFinished, {});
  const fs::path dead =
      w.ws / "cache" / "staging" / fmt::format("{}-{}-0-ab", key_of("x"), dead_pid());
  const fs::path mine =
      w.ws / "cache" / "staging" / fmt::format("{}-{}-0-cd", key_of("y"), getpid());
  for (const auto& d : {dead, mine}) {
    fs::create_directories(d / "files");
    std::ofstream(d / "files" / "part") << "half-written";
    set_mtime_days_ago(d, 1);
  }
  const GcResult r = collect_garbage(w.ws, GcOptions{});
  BOOST_TEST(r.staging_removed.size() == 1u);
  BOOST_TEST(!fs::exists(dead));
  BOOST_TEST(fs::exists(mine));
}

BOOST_AUTO_TEST_CASE(du_sums_by_op_and_age_and_says_what_gc_would_free) {
  Workspace w;
  w.entry("a", 1000, "dataset.x");
  w.entry("b", 2000, "train.y");
  w.entry("c", 3000, "train.y");
  set_mtime_days_ago(w.cache.entry(key_of("c")), 10);
  w.run(RunStatus::kFinished, {"a", "b"});
  const Table t = cache_du_table(w.ws);
  std::map<std::string, std::vector<std::string>> rows;
  for (const auto& r : t.rows) rows[r[0] + "/" + r[1]] = r;
  const auto size = [&](const std::string& n) {
    return static_cast<int64_t>(fs::file_size(w.cache.entry(key_of(n)) / "record.json")) +
           (n == "a"   ? 1000
            : n == "b" ? 2000
                       : 3000);
  };
  BOOST_TEST(rows.at("op/dataset.x")[2] == "1");
  BOOST_TEST(rows.at("op/train.y")[2] == "2");
  BOOST_TEST(rows.at("op/train.y")[3] == std::to_string(size("b") + size("c")));
  BOOST_TEST(rows.at("op/train.y")[4] == std::to_string(size("c")));  // only c is unreferenced
  BOOST_TEST(rows.at("age/< 1 day")[2] == "2");
  BOOST_TEST(rows.at("age/7-30 days")[2] == "1");
  BOOST_TEST(rows.at("total/total")[3] == std::to_string(size("a") + size("b") + size("c")));
  BOOST_TEST(rows.at("total/total")[4] == std::to_string(size("c")));
  // du changes nothing.
  BOOST_TEST(w.has("c"));
}

BOOST_AUTO_TEST_CASE(delete_hides_a_run_from_runs_and_query_and_restore_brings_it_back) {
  Workspace w;
  const int64_t a = w.run(RunStatus::kFinished, {});
  const int64_t b = w.run(RunStatus::kFinished, {});
  w.store.set_tag(a, "owner", "ana");
  w.store.set_tag(b, "owner", "ana");
  std::ostringstream out;
  delete_runs(w.ws, {std::to_string(a)}, false, out);
  BOOST_TEST(contains(out.str(), fmt::format("flowlab restore {}", a)));

  std::ostringstream runs, deleted, query, query_all;
  list_runs(w.ws, 20, Format::kCsv, runs);
  list_runs(w.ws, 20, Format::kCsv, deleted, RunView::kDeletedOnly);
  BOOST_TEST(!contains(runs.str(), fmt::format("\n{},", a)));
  BOOST_TEST(contains(runs.str(), fmt::format("\n{},", b)));
  BOOST_TEST(contains(deleted.str(), fmt::format("\n{},", a)));
  BOOST_TEST(!contains(deleted.str(), fmt::format("\n{},", b)));
  RunQuery q;
  q.filter = "tags.owner = 'ana'";
  q.columns = "id";
  BOOST_TEST(query_table(w.ws, q, Format::kCsv).rows.size() == 1u);
  q.view = RunView::kAll;
  BOOST_TEST(query_table(w.ws, q, Format::kCsv).rows.size() == 2u);

  std::ostringstream restored;
  restore_runs(w.ws, {std::to_string(a)}, restored);
  BOOST_TEST(contains(restored.str(), "restored 1 run"));
  q.view = RunView::kActiveOnly;
  BOOST_TEST(query_table(w.ws, q, Format::kCsv).rows.size() == 2u);
  std::ostringstream again;
  restore_runs(w.ws, {std::to_string(a)}, again);
  BOOST_TEST(contains(again.str(), "not deleted"));
}

BOOST_AUTO_TEST_CASE(deleting_a_sweep_parent_deletes_its_children_and_restore_them_too) {
  Workspace w;
  const int64_t p = w.run(RunStatus::kFinished, {});
  const int64_t c1 = w.run(RunStatus::kFinished, {}, p), c2 = w.run(RunStatus::kFailed, {}, p);
  std::ostringstream out;
  delete_runs(w.ws, {std::to_string(p)}, false, out);
  BOOST_TEST(contains(out.str(), "and 2 runs below it"));
  std::vector<int64_t> deleted;
  for (const auto& r : w.store.list_runs(0, RunView::kDeletedOnly)) deleted.push_back(r.id);
  BOOST_TEST((deleted == std::vector<int64_t>{c2, c1, p}));
  restore_runs(w.ws, {"last"}, out);  // the newest deleted run: a child, with nothing below
  BOOST_TEST(w.store.list_runs(0, RunView::kDeletedOnly).size() == 2u);
  restore_runs(w.ws, {std::to_string(p)}, out);
  BOOST_TEST(w.store.list_runs(0, RunView::kDeletedOnly).empty());
}

BOOST_AUTO_TEST_CASE(a_running_run_is_neither_deleted_nor_purged_but_a_stale_one_is) {
  Workspace w;
  const int64_t live = w.run(RunStatus::kRunning, {});
  const int64_t stale = w.run(RunStatus::kRunning, {}, std::nullopt, dead_pid());
  std::ostringstream out;
  const std::string e = flowlab::testing::config_error_of(
      [&] { delete_runs(w.ws, {std::to_string(live)}, false, out); });
  BOOST_TEST(contains(e, "still running"));
  BOOST_CHECK_THROW(delete_runs(w.ws, {std::to_string(live)}, true, out), ConfigError);
  BOOST_TEST(w.store.list_runs(0).size() == 2u);
  delete_runs(w.ws, {std::to_string(stale)}, false, out);
  BOOST_TEST(w.store.get_run(stale)->deleted_at.has_value());
  // A finished child of a sweep still running: hidden, yes; purged, not yet.
  const int64_t child = w.run(RunStatus::kFinished, {}, live);
  const std::string purge_error = flowlab::testing::config_error_of(
      [&] { delete_runs(w.ws, {std::to_string(child)}, true, out); });
  BOOST_TEST(contains(purge_error, fmt::format("belongs to sweep {}", live)));
  BOOST_TEST(w.store.get_run(child).has_value());
  delete_runs(w.ws, {std::to_string(child)}, false, out);
  BOOST_TEST(w.store.get_run(child)->deleted_at.has_value());
}

BOOST_AUTO_TEST_CASE(purge_removes_rows_and_unshared_entries_but_keeps_shared_ones) {
  Workspace w;
  for (const auto& n : {"own", "shared", "other"}) w.entry(n);
  const int64_t a = w.run(RunStatus::kFinished, {"own", "shared"});
  w.store.log_params(a, {{"lr", "0.1"}});
  w.store.set_tag(a, "owner", "ana");
  const int64_t b = w.run(RunStatus::kFinished, {"shared", "other"});
  fs::create_directories(w.ws / "checkpoints" / key_of("own"));
  std::ostringstream out;
  delete_runs(w.ws, {std::to_string(a)}, true, out);
  BOOST_TEST(contains(out.str(), "1 cache entry"));
  BOOST_TEST(!w.store.get_run(a).has_value());
  BOOST_TEST(w.store.get_run(b).has_value());
  RawDb raw(w.ws / "runs.db");
  for (const char* table : {"params", "tags", "node_executions"})
    BOOST_TEST(raw.integer(fmt::format("SELECT COUNT(*) FROM {} WHERE run_id = {}", table, a)) == 0,
               table);
  BOOST_TEST(!w.has("own"));
  BOOST_TEST(!fs::exists(w.ws / "checkpoints" / key_of("own")));
  BOOST_TEST(w.has("shared"));
  BOOST_TEST(w.has("other"));
}

BOOST_AUTO_TEST_CASE(purge_keeps_entries_a_soft_deleted_run_still_uses) {
  Workspace w;
  w.entry("shared");
  const int64_t a = w.run(RunStatus::kFinished, {"shared"});
  const int64_t b = w.run(RunStatus::kFinished, {"shared"});
  std::ostringstream out;
  delete_runs(w.ws, {std::to_string(b)}, false, out);  // restorable: its rows remain
  delete_runs(w.ws, {std::to_string(a)}, true, out);
  BOOST_TEST(w.has("shared"));
}

BOOST_AUTO_TEST_CASE(a_bad_run_is_a_clear_error_and_changes_nothing) {
  Workspace w;
  const int64_t a = w.run(RunStatus::kFinished, {});
  std::ostringstream out;
  std::string e = flowlab::testing::config_error_of([&] {
    delete_runs(w.ws, {std::to_string(a), "99"}, false, out);
  });
  BOOST_TEST(contains(e, "no run with id 99"));
  BOOST_TEST(!w.store.get_run(a)->deleted_at.has_value());  // not even the good one
  e = flowlab::testing::config_error_of([&] { delete_runs(w.ws, {"abc"}, true, out); });
  BOOST_TEST(contains(e, "expected a run id, a run's uuid or 'last'"));
  BOOST_TEST(w.store.get_run(a).has_value());
  e = flowlab::testing::config_error_of([&] { restore_runs(w.ws, {"7"}, out); });
  BOOST_TEST(contains(e, "no run with id 7"));
  e = flowlab::testing::config_error_of(
      [&] { tag_run(w.ws, "42", {"k=v"}, std::nullopt, {}, Format::kTable, out); });
  BOOST_TEST(contains(e, "no run with id 42"));
  e = flowlab::testing::config_error_of([&] { restore_runs(w.ws, {"last"}, out); });
  BOOST_TEST(contains(e, "no deleted runs"));
  TempDir empty;
  e = flowlab::testing::config_error_of([&] { delete_runs(empty / "ws", {"1"}, false, out); });
  BOOST_TEST(contains(e, "no results database"));
}

BOOST_AUTO_TEST_CASE(tags_set_by_command_are_queryable_and_removable) {
  Workspace w;
  const int64_t a = w.run(RunStatus::kFinished, {});
  const int64_t b = w.run(RunStatus::kFinished, {});
  std::ostringstream out;
  tag_run(w.ws, std::to_string(a), {"owner=ana", "purpose=base line", "empty="},
          std::string("lr too high"), {}, Format::kCsv, out);
  BOOST_TEST(contains(out.str(), "owner,ana"));
  BOOST_TEST(
      (w.store.tags(a) ==
       std::map<std::string, std::string>{
           {"empty", ""}, {"note", "lr too high"}, {"owner", "ana"}, {"purpose", "base line"}}));
  tag_run(w.ws, "last", {"owner=bo"}, std::nullopt, {}, Format::kTable, out);  // b is newest
  RunQuery q;
  q.filter = "tags.owner = 'ana'";
  q.columns = "id";
  const Table t = query_table(w.ws, q, Format::kCsv);
  BOOST_TEST_REQUIRE(t.rows.size() == 1u);
  BOOST_TEST(t.rows[0][0] == std::to_string(a));
  q.filter = "tags.note LIKE '%too high%'";
  BOOST_TEST(query_table(w.ws, q, Format::kCsv).rows.size() == 1u);
  tag_run(w.ws, std::to_string(a), {}, std::nullopt, {"purpose", "missing"}, Format::kTable, out);
  BOOST_TEST(contains(out.str(), "had no tag missing"));
  BOOST_TEST(!w.store.tags(a).count("purpose"));
  BOOST_TEST(w.store.tags(b).at("owner") == "bo");
  for (const auto& bad : std::vector<std::string>{"noequals", "=v", " k=v"})
    BOOST_CHECK_THROW(tag_run(w.ws, "1", {bad}, std::nullopt, {}, Format::kTable, out),
                      ConfigError);
  BOOST_CHECK_THROW(tag_run(w.ws, "1", {}, std::nullopt, {}, Format::kTable, out), ConfigError);
  BOOST_CHECK_THROW(tag_run(w.ws, "1", {"k=v"}, std::nullopt, {"k"}, Format::kTable, out),
                    ConfigError);
}

BOOST_AUTO_TEST_CASE(show_lists_tags_and_marks_a_deleted_run) {
  Workspace w;
  const int64_t a = w.run(RunStatus::kFinished, {});
  w.store.set_tags(a, {{"owner", "ana"}, {"note", "first try"}});
  w.store.set_deleted({a}, true);
  std::ostringstream table, json;
  show_run(w.ws, std::to_string(a), Format::kTable, table);
  BOOST_TEST(contains(table.str(), "DELETED"));
  BOOST_TEST(contains(table.str(), "note        first try"));
  BOOST_TEST(contains(table.str(), "owner=ana"));
  show_run(w.ws, std::to_string(a), Format::kJson, json);
  BOOST_TEST(contains(json.str(), "\"owner\": \"ana\""));
  BOOST_TEST(!contains(json.str(), "\"deleted_at\": null"));
}

// The spec's `tags:` map becomes the plan's tags (what `flowlab run` records on the run), and
// the command line can add to it like any key.
BOOST_AUTO_TEST_CASE(spec_tags_are_planned_and_checked) {
  static const flowlab::Registry registry = flowlab::testing::fake_registry();
  const std::string spec =
      "tags: {owner: ana, round: 3}\n"
      "nodes:\n  a: {op: test.const, params: {value: 1}}\n";
  const flowlab::Plan plan = flowlab::make_plan(
      flowlab::compose_text(spec, "spec.yaml", {}, {"+tags.purpose=base"}), registry);
  BOOST_TEST((plan.tags == std::map<std::string, std::string>{
                               {"owner", "ana"}, {"purpose", "base"}, {"round", "3"}}));
  // Tags are not part of any cache key.
  const flowlab::Plan plain = flowlab::make_plan(
      flowlab::compose_text("nodes:\n  a: {op: test.const, params: {value: 1}}\n", "spec.yaml", {},
                            {}),
      registry);
  BOOST_TEST(plan.nodes[0].key == plain.nodes[0].key);
  // What record_child then does, queried as `flowlab query` would.
  Workspace w;
  const int64_t id = w.run(RunStatus::kFinished, {});
  w.store.set_tags(id, plan.tags);
  RunQuery q;
  q.filter = "tags.owner = 'ana' and tags.round = 3";
  BOOST_TEST(query_table(w.ws, q, Format::kCsv).rows.size() == 1u);

  std::string e = flowlab::testing::config_error_of([&] {
    flowlab::make_plan(
        flowlab::compose_text("tags: [a, b]\nnodes:\n  a: {op: test.const}\n", "spec.yaml", {}, {}),
        registry);
  });
  BOOST_TEST(contains(e, "spec.yaml:1:7: error: tags: expected a mapping"));
  e = flowlab::testing::config_error_of([&] {
    flowlab::make_plan(
        flowlab::compose_text("tags: {owner: {x: 1}}\nnodes:\n  a: {op: test.const}\n", "spec.yaml",
                              {}, {}),
        registry);
  });
  BOOST_TEST(contains(e, "tags.owner: expected a text, number or bool"));
}

BOOST_AUTO_TEST_SUITE_END()
