// Sweeps (one graph, shared nodes computed once, failures isolated) and resume (a SIGKILLed run
// resumed from its checkpoint ends exactly where an uninterrupted run ends).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>

#include "experiments/cli/commands.h"
#include "experiments/cli/runner.h"
#include "tests/support/child_process.h"
#include "tests/support/run_fixture.h"
#include "tracking/store.h"

namespace {

using flowlab::testing::RunFixture;
using flowlab::testing::source_dir;
using flowlab::tracking::RunStatus;
using flowlab::tracking::Store;
namespace fs = std::filesystem;

flowlab::cli::RunOutcome sweep(RunFixture& f, std::vector<std::string> args, int jobs = 0,
                               const std::string& spec = "tiny.yaml") {
  return f.sweep(spec, args, {jobs, false}).outcome;
}

flowlab::cli::RunOutcome resume(RunFixture& f, int64_t id, std::string* progress = nullptr) {
  flowlab::cli::RunOptions o;
  o.workspace = f.workspace();
  o.quiet = progress == nullptr;
  std::ostringstream out, err;
  std::atomic<bool> stop{false};
  auto outcome = flowlab::cli::resume_run(id, o, f.registry(), out, err, stop);
  if (progress) *progress = err.str();
  return outcome;
}

// Every metric except wall-clock ones, keyed by node.key@step.
std::map<std::string, double> deterministic_metrics(const Store& store, int64_t run) {
  std::map<std::string, double> out;
  for (const auto& m : store.metrics(run))
    if (m.key != "samples_per_s" && m.key != "train_time_s")
      out[m.node + "." + m.key + "@" + std::to_string(m.step)] = m.value;
  return out;
}

// `in_child` runs in the forked child before it executes flowlab (e.g. to change its environment).
flowlab::testing::ChildProcess spawn_flowlab(const std::vector<std::string>& args,
                                             const std::function<void()>& in_child = {}) {
  std::fflush(stdout);  // or the child flushes the parent's buffered test output a second time
  flowlab::testing::ChildProcess child(fork());
  if (child.pid() == 0) {
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
    if (in_child) in_child();
    std::vector<char*> argv{const_cast<char*>(FLOWLAB_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(FLOWLAB_BINARY, argv.data());
    _exit(127);
  }
  return child;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_sweep)

BOOST_AUTO_TEST_CASE(sweep_children_share_the_dataset_node_and_record_their_own_results) {
  RunFixture f;
  auto r =
      sweep(f, {"nodes.train.params.epochs=1", "nodes.train.params.lr=0.01,0.001", "seed=1,2"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  Store store(f.db());
  auto parent = store.get_run(r.run_id);
  BOOST_TEST(flowlab::tracking::to_string(parent->status) == "FINISHED");
  auto children = store.children(r.run_id);
  BOOST_REQUIRE_EQUAL(children.size(), 4u);
  int dataset_computations = 0, train_computations = 0;
  std::set<std::string> seeds_and_lrs;
  for (const auto& c : children) {
    BOOST_TEST(flowlab::tracking::to_string(c.status) == "FINISHED");
    auto params = store.params(c.id);
    seeds_and_lrs.insert(params["train.seed"] + "/" + params["train.lr"]);
    for (const auto& n : store.node_executions(c.id)) {
      dataset_computations += n.node == "data" && !n.cache_hit;
      train_computations += n.node == "train" && !n.cache_hit;
    }
    bool has_accuracy = false;
    for (const auto& m : store.final_metrics(c.id))
      has_accuracy |= m.node == "eval" && m.key == "accuracy";
    BOOST_TEST(has_accuracy);
  }
  BOOST_TEST(dataset_computations == 1);  // one dataset for four children
  BOOST_TEST(train_computations == 4);
  BOOST_TEST(seeds_and_lrs == (std::set<std::string>{"1/0.01", "1/0.001", "2/0.01", "2/0.001"}));
}

BOOST_AUTO_TEST_CASE(a_failing_child_is_recorded_and_the_others_finish) {
  RunFixture f;
  auto r =
      sweep(f, {"optimizer=sgd", "nodes.train.params.epochs=1", "nodes.train.params.lr=10,0.01"});
  BOOST_TEST(r.exit_code == 1);
  Store store(f.db());
  auto children = store.children(r.run_id);
  BOOST_REQUIRE_EQUAL(children.size(), 2u);
  BOOST_TEST(flowlab::tracking::to_string(children[0].status) == "FAILED");
  BOOST_TEST(children[0].error.find("loss became") != std::string::npos);
  BOOST_TEST(flowlab::tracking::to_string(children[1].status) == "FINISHED");
  BOOST_TEST(flowlab::tracking::to_string(store.get_run(r.run_id)->status) == "FAILED");
}

BOOST_AUTO_TEST_CASE(resumed_sweep_reruns_only_unfinished_children) {
  RunFixture f;
  // The second child reads a dataset directory that does not exist yet, so it fails.
  fs::path late = f.workspace().parent_path() / "late-data";
  auto r = sweep(f,
                 {"nodes.train.params.epochs=1",
                  "nodes.data.params.path=/usr/share/datasets/fashion-mnist," + late.string()},
                 0, "tiny_sweep_aggregate.yaml");
  BOOST_TEST(r.exit_code == 1);
  Store store(f.db());
  auto parent_metrics = [&] {
    std::map<std::string, double> m;
    for (const auto& row : store.final_metrics(r.run_id)) m[row.node + "." + row.key] = row.value;
    return m;
  };
  // The sweep's aggregate ran on what there was: one usable child, one failed.
  BOOST_TEST(parent_metrics()["summary.children_used"] == 1);
  BOOST_TEST(parent_metrics()["summary.children_dropped"] == 1);
  auto before = store.children(r.run_id);
  BOOST_REQUIRE_EQUAL(before.size(), 2u);
  BOOST_TEST(flowlab::tracking::to_string(before[1].status) == "FAILED");
  auto finished_nodes = store.node_executions(before[0].id);

  fs::create_directory_symlink("/usr/share/datasets/fashion-mnist", late);
  auto resumed = resume(f, r.run_id);
  BOOST_TEST(resumed.exit_code == 0);
  auto after = store.children(r.run_id);
  BOOST_TEST(flowlab::tracking::to_string(after[1].status) == "FINISHED");
  BOOST_TEST(flowlab::tracking::to_string(store.get_run(r.run_id)->status) == "FINISHED");
  // The aggregate ran again, on both children now.
  BOOST_TEST(parent_metrics()["summary.children_used"] == 2);
  BOOST_TEST(parent_metrics()["summary.children_dropped"] == 0);
  // The finished child was not touched: same end time, same node executions.
  BOOST_TEST(*after[0].end_time == *before[0].end_time);
  auto again = store.node_executions(before[0].id);
  BOOST_REQUIRE_EQUAL(again.size(), finished_nodes.size());
  for (size_t i = 0; i < again.size(); ++i)
    BOOST_TEST(again[i].start_time == finished_nodes[i].start_time);
}

BOOST_AUTO_TEST_CASE(each_child_ends_when_its_own_nodes_do) {
  // One node at a time, so the two children's last nodes end at different moments: the child that
  // is done first must be recorded as ended then (not when the whole sweep ends).
  RunFixture f;
  auto r = sweep(f, {"train.epochs=1,3"}, /*jobs=*/1);
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  Store store(f.db());
  auto children = store.children(r.run_id);
  BOOST_REQUIRE_EQUAL(children.size(), 2u);
  auto last_node_end = [&](int64_t run) {
    double end = 0;
    for (const auto& n : store.node_executions(run)) end = std::max(end, n.end_time);
    return end;
  };
  for (const auto& c : children) {
    BOOST_REQUIRE(c.end_time.has_value());
    BOOST_TEST(*c.end_time >= last_node_end(c.id));
    BOOST_TEST(*c.end_time < last_node_end(c.id) + 0.5);
  }
  const bool first_done_first = last_node_end(children[0].id) < last_node_end(children[1].id);
  const auto& early = children[first_done_first ? 0 : 1];
  const auto& late = children[first_done_first ? 1 : 0];
  BOOST_TEST(*early.end_time < last_node_end(late.id));  // before the other child's last node ended
}

BOOST_AUTO_TEST_CASE(dry_run_records_nothing) {
  RunFixture f;
  // cnn and mlp only: the sequence models (s4d, s4_ptd, s5_ptd) do not take tiny's width, and
  // rrcm's noise conditioning is not what this test is about.
  auto r = f.sweep("tiny.yaml", {"seed=range(0,3)", "model=glob(*,exclude=[s*,rrcm])"},
                   {0, /*dry_run=*/true});
  BOOST_TEST(r.out.find("6 children") != std::string::npos);  // 3 seeds x {cnn, mlp}
  BOOST_TEST(!fs::exists(f.db()));
}

// SIGKILL a real training process at a random moment after its first checkpoint, resume it, check
// that it resumed from the checkpoint (not from scratch), and compare every deterministic metric
// with the same run left alone.
BOOST_AUTO_TEST_CASE(sigkilled_run_resumes_to_the_same_metrics, *boost::unit_test::label("slow")) {
  // Long enough (about 2 s of training) that the kill always lands before the end.
  const std::vector<std::string> overrides = {"nodes.train.params.epochs=40",
                                              "+nodes.train.params.checkpoint_every=10"};
  RunFixture reference;
  auto ref = reference.run("tiny.yaml", overrides);
  BOOST_REQUIRE_EQUAL(ref.outcome.exit_code, 0);

  RunFixture killed;
  std::vector<std::string> args = {"run",
                                   (source_dir() / "tests/data/specs/tiny.yaml").string(),
                                   "--config-dir",
                                   (source_dir() / "configs").string(),
                                   "--workspace",
                                   killed.workspace().string(),
                                   "-q"};
  args.insert(args.end(), overrides.begin(), overrides.end());
  auto process = spawn_flowlab(args);  // killed and reaped if a check below ends the test early
  // Kill at a random point soon after the first checkpoint exists: the training lasts 1,160 steps
  // (1-2 s), the first checkpoint comes at step 10, so up to 150 ms later it is far from done
  // (waiting up to 800 ms let it finish first on a loaded machine: a flaky test).
  std::mt19937 rng(std::random_device{}());
  int extra_ms = std::uniform_int_distribution<int>(0, 150)(rng);
  bool checkpointed = false;
  for (int i = 0; i < 600 && !checkpointed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::error_code ec;
    checkpointed = fs::exists(killed.workspace() / "checkpoints", ec) &&
                   !fs::is_empty(killed.workspace() / "checkpoints", ec);
  }
  BOOST_REQUIRE(checkpointed);
  std::this_thread::sleep_for(std::chrono::milliseconds(extra_ms));
  process.send(SIGKILL);
  const int status = process.wait();
  BOOST_TEST_MESSAGE("killed " << extra_ms << " ms after the first checkpoint");
  BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status), "the run finished before it could be killed");
  Store store(killed.db());
  auto run = store.list_runs(1).front();
  BOOST_TEST(flowlab::cli::display_status(run) == "STALE");  // RUNNING in the table, but dead

  std::string progress;
  auto resumed = resume(killed, run.id, &progress);
  BOOST_REQUIRE_EQUAL(resumed.exit_code, 0);
  // Equal final metrics cannot tell a resume from a retraining: the loop says where it resumed.
  BOOST_TEST(progress.find("resumed from checkpoint at epoch") != std::string::npos, progress);
  BOOST_TEST(flowlab::tracking::to_string(store.get_run(run.id)->status) == "FINISHED");
  Store ref_store(reference.db());
  auto expected = deterministic_metrics(ref_store, ref.outcome.run_id);
  auto got = deterministic_metrics(store, run.id);
  BOOST_TEST(expected.size() > 30u);
  BOOST_TEST(got == expected);
  BOOST_TEST(
      !fs::exists(killed.workspace() / "checkpoints" / store.node_executions(run.id)[1].cache_key));
}

BOOST_AUTO_TEST_CASE(resuming_a_finished_run_does_nothing) {
  RunFixture f;
  auto r = f.run("tiny.yaml", {"nodes.train.params.epochs=1"});
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  Store store(f.db());
  double end = *store.get_run(r.outcome.run_id)->end_time;
  BOOST_TEST(resume(f, r.outcome.run_id).exit_code == 0);
  BOOST_TEST(*store.get_run(r.outcome.run_id)->end_time == end);
}

// libgomp reads OMP_WAIT_POLICY when it loads, so flowlab re-executes itself with PASSIVE (idle
// OpenMP threads sleep instead of spinning on cores other nodes need) unless the user chose.
BOOST_AUTO_TEST_CASE(flowlab_runs_with_passive_openmp_waits_unless_the_user_chose_a_policy) {
  for (const std::string preset : {"", "ACTIVE"}) {
    RunFixture f;
    auto process =
        spawn_flowlab({"run", (source_dir() / "tests/data/specs/tiny.yaml").string(),
                       "--config-dir", (source_dir() / "configs").string(), "--workspace",
                       f.workspace().string(), "-q", "nodes.train.params.epochs=10000"},
                      [&] {
                        if (preset.empty())
                          unsetenv("OMP_WAIT_POLICY");
                        else
                          setenv("OMP_WAIT_POLICY", preset.c_str(), 1);
                      });
    // The re-executed program keeps the pid; its environment is in /proc/PID/environ. Until the
    // fork has executed flowlab and flowlab flowlab-engine, that file holds an earlier
    // environment, so only readings taken while /proc/PID/exe is flowlab-engine count.
    const std::string expected = preset.empty() ? "PASSIVE" : preset;
    const std::string proc = "/proc/" + std::to_string(process.pid());
    std::string policy;
    for (int i = 0; i < 500 && policy != expected; ++i) {
      std::error_code ec;
      if (fs::equivalent(fs::read_symlink(proc + "/exe", ec), FLOWLAB_ENGINE_BINARY, ec)) {
        std::ifstream in(proc + "/environ");
        std::string entry;
        policy.clear();
        while (std::getline(in, entry, '\0'))
          if (entry.rfind("OMP_WAIT_POLICY=", 0) == 0) policy = entry.substr(16);
      }
      if (policy != expected) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(policy == expected, "preset '" << preset << "'");
  }
}

BOOST_AUTO_TEST_SUITE_END()
