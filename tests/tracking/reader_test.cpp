// Tests for the reader API over the documented views (tracking/reader.cpp): what a sweep parent
// is, run listings, batched params and final metrics, metric histories, and opening older files.
#include "tracking/reader.h"

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/store_backends.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::testing::fresh_store;
using flowlab::testing::RawStore;
using flowlab::testing::store_backends;
using flowlab::testing::TempDir;
namespace data = boost::unit_test::data;
using namespace flowlab::tracking;

namespace {

int64_t add_run(Store& store, const std::string& experiment, const std::string& name,
                std::optional<int64_t> parent = std::nullopt,
                RunStatus status = RunStatus::kFinished) {
  RunStart start;
  start.experiment = experiment;
  start.name = name;
  start.parent_id = parent;
  start.overrides = R"(["train.lr=0.1"])";
  const int64_t id = store.begin_run(start);
  if (status != RunStatus::kRunning) store.finish_run(id, status);
  return id;
}

std::vector<int64_t> ids_of(const std::vector<RunInfo>& runs) {
  std::vector<int64_t> out;
  for (const auto& r : runs) out.push_back(r.id);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tracking_reader)

BOOST_DATA_TEST_CASE(a_sweep_parent_has_children_or_the_sweep_parent_name,
                     data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  int64_t plain = 0, named_parent = 0, child = 0, unnamed_parent = 0, unnamed_child = 0;
  {
    Store store(db);
    plain = add_run(store, "e", "quick");
    // Interrupted before it recorded a child: known by its name alone.
    named_parent = add_run(store, "e", sweep_parent_name("grid"), std::nullopt, RunStatus::kKilled);
    unnamed_parent = add_run(store, "e", "test");  // any name: its children make it a parent
    unnamed_child = add_run(store, "e", "test[1]", unnamed_parent);
    child = add_run(store, "e", "grid[1]", unnamed_parent);
  }
  BOOST_TEST(sweep_parent_name("grid") == "grid (sweep)");
  const RunReader reader(db);
  BOOST_TEST(reader.is_sweep_parent(named_parent));
  BOOST_TEST(reader.is_sweep_parent(unnamed_parent));
  BOOST_TEST(!reader.is_sweep_parent(plain));
  BOOST_TEST(!reader.is_sweep_parent(unnamed_child));
  BOOST_TEST(!reader.is_sweep_parent(child));
  BOOST_TEST(!reader.is_sweep_parent(999));

  const std::vector<int64_t> results = ids_of(reader.runs_except_sweep_parents());
  BOOST_TEST(results == (std::vector<int64_t>{plain, unnamed_child, child}),
             boost::test_tools::per_element());
  BOOST_TEST(
      ids_of(reader.children(unnamed_parent)) == (std::vector<int64_t>{unnamed_child, child}),
      boost::test_tools::per_element());
  BOOST_TEST(reader.children(plain).empty());
  // Children counted by status, per parent; parents without children have no entry.
  const auto counts = reader.child_status_counts({plain, unnamed_parent, named_parent});
  BOOST_TEST(counts.size() == 1u);
  BOOST_TEST(counts.at(unnamed_parent).size() == 1u);
  BOOST_TEST(counts.at(unnamed_parent).begin()->second == 2);
}

BOOST_DATA_TEST_CASE(runs_experiments_and_the_newest_experiment, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  int64_t a1 = 0, b1 = 0, a2 = 0;
  {
    Store store(db);
    a1 = add_run(store, "alpha", "one");
    b1 = add_run(store, "beta", "two", std::nullopt, RunStatus::kFailed);
    a2 = add_run(store, "alpha", "three", std::nullopt, RunStatus::kRunning);
  }
  const RunReader reader(db);
  BOOST_TEST(reader.experiments() == (std::vector<std::string>{"alpha", "beta"}),
             boost::test_tools::per_element());
  // Runs started within one clock tick: the higher id is the newer.
  BOOST_TEST(reader.newest_experiment() == "alpha");
  BOOST_TEST(ids_of(reader.runs_except_sweep_parents("alpha")) == (std::vector<int64_t>{a1, a2}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(reader.runs_except_sweep_parents("gamma")).empty());

  const auto run = reader.run(b1);
  BOOST_REQUIRE(run.has_value());
  BOOST_TEST(run->experiment == "beta");
  BOOST_TEST(run->name == "two");
  BOOST_TEST(to_string(run->status) == "FAILED");
  BOOST_TEST(!run->parent_id.has_value());
  BOOST_TEST(run->end_time.has_value());
  BOOST_TEST(run->overrides == R"(["train.lr=0.1"])");
  BOOST_TEST(to_string(reader.run(a2)->status) == "RUNNING");
  BOOST_TEST(!reader.run(a2)->end_time.has_value());
  BOOST_TEST(!reader.run(12345).has_value());
}

BOOST_DATA_TEST_CASE(an_empty_database_has_no_newest_experiment, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  { Store store(db); }
  const RunReader reader(db);
  BOOST_TEST(reader.newest_experiment() == "");
  BOOST_TEST(reader.experiments().empty());
  BOOST_TEST(reader.params({}).empty());
  BOOST_TEST(reader.final_metrics({}).empty());
}

// More runs than one statement binds, so the batching shows: every run's params and metrics come
// back, attributed to the right run.
BOOST_DATA_TEST_CASE(params_and_final_metrics_of_many_runs_at_once, data::make(store_backends()),
                     backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  constexpr int kRuns = 1100;
  std::vector<int64_t> ids;
  {
    Store store(db);
    for (int i = 0; i < kRuns; ++i) {
      const int64_t id = add_run(store, "many", "r", std::nullopt, RunStatus::kRunning);
      ids.push_back(id);
      if (i % 10 == 3) continue;  // some runs record nothing
      store.log_params(id, {{"i", std::to_string(i)}, {"seed", "0"}});
      store.log_metrics(id, {{"train", "loss", 0, 10.0 + i, 1.0},
                             {"train", "loss", 1, 1.0 * i, 2.0},  // final: the highest step
                             {"eval", "accuracy", 0, i / 1000.0, 3.0},
                             {"eval", "nan", 0, std::numeric_limits<double>::quiet_NaN(), 3.0}});
    }
  }
  const RunReader reader(db);
  const auto params = reader.params(ids);
  const auto metrics = reader.final_metrics(ids);
  BOOST_TEST(params.size() == static_cast<size_t>(kRuns - kRuns / 10));
  BOOST_TEST(metrics.size() == params.size());
  for (int i = 0; i < kRuns; ++i) {
    const int64_t id = ids[static_cast<size_t>(i)];
    if (i % 10 == 3) {
      BOOST_TEST(!params.count(id));
      BOOST_TEST(!metrics.count(id));
      continue;
    }
    BOOST_TEST(params.at(id).at("i") == std::to_string(i));
    const auto& m = metrics.at(id);
    BOOST_REQUIRE_EQUAL(m.size(), 3u);  // sorted by node, then key
    BOOST_TEST(m[0].node == "eval");
    BOOST_TEST(m[0].key == "accuracy");
    BOOST_TEST(m[0].value == i / 1000.0);
    BOOST_TEST(m[1].key == "nan");
    BOOST_TEST(std::isnan(m[1].value));
    BOOST_TEST(m[2].node == "train");
    BOOST_TEST(m[2].value == 1.0 * i);
  }
  // Only the runs asked for.
  BOOST_TEST(reader.params({ids[0], ids[5]}).size() == 2u);
}

BOOST_DATA_TEST_CASE(a_metric_history_keeps_the_last_value_of_each_step,
                     data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  int64_t run = 0;
  {
    Store store(db);
    run = add_run(store, "e", "r");
    store.log_metrics(run, {{"train", "loss", 2, 0.5, 1.0},
                            {"train", "loss", 0, 2.0, 1.0},
                            {"train", "loss", 1, 1.0, 1.0},
                            {"train", "loss", 1, 0.9, 1.0},  // step 1 again: this one counts
                            {"train", "acc", 1, 0.3, 1.0},
                            {"eval", "loss", 1, 7.0, 1.0}});
    store.log_metrics(run, {{"train", "loss", 3, std::numeric_limits<double>::quiet_NaN(), 2.0}});
  }
  const RunReader reader(db);
  const auto h = reader.metric_history(run, "train", "loss");
  BOOST_REQUIRE_EQUAL(h.size(), 4u);
  BOOST_TEST(h[0].step == 0);
  BOOST_TEST(h[0].value == 2.0);
  BOOST_TEST(h[1].step == 1);
  BOOST_TEST(h[1].value == 0.9);
  BOOST_TEST(h[2].step == 2);
  BOOST_TEST(h[2].value == 0.5);
  BOOST_TEST(h[3].step == 3);
  BOOST_TEST(std::isnan(h[3].value));
  BOOST_TEST(reader.metric_history(run, "train", "nothing").empty());
}

BOOST_AUTO_TEST_CASE(an_older_file_is_migrated_and_a_missing_one_refused) {
  TempDir dir;
  int64_t run = 0;
  {
    Store store(dir / "old.db", 1);  // before the views existed
    run = add_run(store, "e", "r");
    store.log_params(run, {{"a", "1"}});
  }
  const RunReader reader(dir / "old.db");
  BOOST_TEST(reader.db().schema_version() == latest_schema_version());
  BOOST_TEST(reader.params({run}).at(run).at("a") == "1");
  BOOST_CHECK_THROW(RunReader(dir / "missing.db"), StoreError);
  BOOST_TEST(!fs::exists(dir / "missing.db"));  // reading never creates a database
}

BOOST_AUTO_TEST_SUITE_END()
