// fl.federated end to end: clients in two Gloo worker processes give exactly the in-process
// result for the same seed (RQM's integer messages and the Gaussian's floats alike); a worker
// killed mid-run fails the node with a message naming it, well within the timeout, never a hang;
// a killed Gloo run resumes from its round checkpoint to exactly the metrics of a run left alone.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
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
using flowlab::tracking::RunStatus;
using flowlab::tracking::Store;
namespace fs = std::filesystem;

// Every metric except wall-clock ones, keyed by node.key@step.
std::map<std::string, double> deterministic_metrics(const fs::path& db, int64_t run) {
  Store store(db);
  std::map<std::string, double> out;
  for (const auto& m : store.metrics(run))
    if (m.key != "samples_per_s" && m.key != "train_time_s")
      out[m.node + "." + m.key + "@" + std::to_string(m.step)] = m.value;
  return out;
}

// The workers run the real flowlab binary (the test binary has no `fl-worker` command).
struct WorkerExecutable {
  WorkerExecutable() { setenv("FLOWLAB_EXECUTABLE", FLOWLAB_BINARY, 1); }
  ~WorkerExecutable() { unsetenv("FLOWLAB_EXECUTABLE"); }
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Pids of the processes whose parent is `parent` and whose command line contains `word`.
std::vector<pid_t> children_running(pid_t parent, const std::string& word) {
  std::vector<pid_t> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_file(entry.path() / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    char state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid != parent) continue;
    std::string cmdline = read_file(entry.path() / "cmdline");
    if (cmdline.find(word) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

// A real flowlab process with `args` (after the program name), stderr to `err` (or discarded).
flowlab::testing::ChildProcess spawn_flowlab(std::vector<std::string> args,
                                             const std::string& err = "/dev/null") {
  args.insert(args.begin(), FLOWLAB_BINARY);
  std::fflush(stdout);  // or the child flushes the parent's buffered test output a second time
  flowlab::testing::ChildProcess child(fork());
  if (child.pid() == 0) {
    if (!freopen("/dev/null", "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(FLOWLAB_BINARY, argv.data());
    _exit(127);
  }
  return child;
}

std::string federated_spec() {
  return (flowlab::testing::source_dir() / "tests/data/specs/federated.yaml").string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_federated)

BOOST_AUTO_TEST_CASE(gloo_workers_give_exactly_the_in_process_result) {
  WorkerExecutable exe;
  for (const char* mechanism : {"rqm", "gaussian"}) {
    RunFixture f;
    const std::string m = std::string("nodes.fl.params.mechanism=") + mechanism;
    std::vector<std::string> extra = {m};
    if (std::string(mechanism) == "gaussian")
      extra = {m, "~nodes.fl.params.levels", "~nodes.fl.params.keep"};
    auto local = f.run("federated.yaml", extra, /*no_cache=*/true);
    BOOST_REQUIRE_MESSAGE(local.outcome.exit_code == 0, local.err);
    auto gloo_args = extra;
    gloo_args.push_back("nodes.fl.params.launcher=gloo");
    gloo_args.push_back("nodes.fl.params.processes=2");
    auto gloo = f.run("federated.yaml", gloo_args, /*no_cache=*/true);
    BOOST_REQUIRE_MESSAGE(gloo.outcome.exit_code == 0, gloo.err);
    const auto a = deterministic_metrics(f.db(), local.outcome.run_id);
    const auto b = deterministic_metrics(f.db(), gloo.outcome.run_id);
    BOOST_TEST_INFO(mechanism);
    BOOST_TEST(a.count("fl.test_acc@3") == 1);
    BOOST_TEST(a.count("fl.epsilon@0") == 1);
    BOOST_TEST((a == b));
  }
}

BOOST_AUTO_TEST_CASE(external_workers_started_by_hand_give_the_in_process_result) {
  // What a cluster does: the node waits (workers: external) and the workers are started
  // elsewhere with the job directory; here, by the test.
  RunFixture reference;
  auto ref = reference.run("federated.yaml");
  BOOST_REQUIRE_MESSAGE(ref.outcome.exit_code == 0, ref.err);
  flowlab::testing::TempDir dir;
  const fs::path ws = dir / "ws", job = dir / "job";
  auto server = spawn_flowlab({"run", federated_spec(), "--workspace", ws.string(), "-q",
                               "nodes.fl.params.launcher=gloo", "nodes.fl.params.workers=external",
                               "nodes.fl.params.job_dir=" + job.string()});
  auto first = spawn_flowlab({"fl-worker", "--job", job.string(), "--rank", "1"});
  auto second = spawn_flowlab({"fl-worker", "--job", job.string(), "--rank", "2"});
  const int status = server.wait();
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_REQUIRE_EQUAL(WEXITSTATUS(status), 0);
  for (auto* worker : {&first, &second}) {
    const int w = worker->wait();
    BOOST_TEST((WIFEXITED(w) && WEXITSTATUS(w) == 0));
  }
  Store store(ws / "runs.db");
  const auto expected = deterministic_metrics(reference.db(), ref.outcome.run_id);
  BOOST_TEST(expected.count("fl.test_acc@3") == 1);
  BOOST_TEST((deterministic_metrics(ws / "runs.db", store.list_runs(1).front().id) == expected));
}

BOOST_AUTO_TEST_CASE(a_killed_worker_fails_the_node_with_its_name_and_never_hangs) {
  flowlab::testing::TempDir dir;
  const fs::path ws = dir / "ws", err = dir / "stderr.txt";
  auto server = spawn_flowlab(
      {"run", federated_spec(), "--workspace", ws.string(), "-q", "nodes.fl.params.rounds=100000",
       "nodes.fl.params.launcher=gloo", "nodes.fl.params.timeout_s=60"},
      err.string());
  // Wait until both workers run, let a few rounds pass, then kill one.
  std::vector<pid_t> workers;
  const auto start = std::chrono::steady_clock::now();
  while (workers.size() < 2 &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    workers = children_running(server.pid(), "fl-worker");
  }
  BOOST_REQUIRE_EQUAL(workers.size(), 2u);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  BOOST_REQUIRE_EQUAL(kill(workers[1], SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  int status = 0;
  while (!server.ended(status)) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() - killed < std::chrono::seconds(50),
                          "the server still runs 50 s after a worker was killed");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 1);
  const std::string message = read_file(err);
  BOOST_TEST_INFO(message);
  BOOST_TEST(message.find("Gloo worker rank") != std::string::npos);
  BOOST_TEST(message.find("killed by signal 9") != std::string::npos);
  BOOST_TEST(message.find("during round") != std::string::npos);
  // No worker outlives the failed run.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  BOOST_TEST(kill(workers[0], 0) != 0);
  Store store(ws / "runs.db");
  BOOST_TEST((store.list_runs().front().status == RunStatus::kFailed));
}

BOOST_AUTO_TEST_CASE(a_killed_gloo_run_resumes_to_the_metrics_of_a_run_left_alone) {
  WorkerExecutable exe;
  const std::vector<std::string> overrides = {"nodes.fl.params.rounds=300",
                                              "nodes.fl.params.log_every=50",
                                              "nodes.fl.params.checkpoint_every=20"};
  RunFixture reference;  // in process: the launcher is not part of the result
  auto ref = reference.run("federated.yaml", overrides);
  BOOST_REQUIRE_MESSAGE(ref.outcome.exit_code == 0, ref.err);

  RunFixture killed;
  std::vector<std::string> args = {"run",         federated_spec(),
                                   "--workspace", killed.workspace().string(),
                                   "-q",          "nodes.fl.params.launcher=gloo"};
  args.insert(args.end(), overrides.begin(), overrides.end());
  auto server = spawn_flowlab(args);
  // Kill the server at a random moment soon after its first round checkpoint (300 rounds take
  // 2-3 s; the first checkpoint comes at round 20).
  bool checkpointed = false;
  for (int i = 0; i < 1500 && !checkpointed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::error_code ec;
    checkpointed = fs::exists(killed.workspace() / "checkpoints", ec) &&
                   !fs::is_empty(killed.workspace() / "checkpoints", ec);
  }
  BOOST_REQUIRE(checkpointed);
  const auto workers = children_running(server.pid(), "fl-worker");
  BOOST_TEST(workers.size() == 2u);
  std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 150)(rng)));
  server.send(SIGKILL);
  BOOST_REQUIRE_MESSAGE(WIFSIGNALED(server.wait()), "the run finished before it was killed");
  // The workers follow their server (PR_SET_PDEATHSIG); give them a moment to be reaped.
  for (pid_t w : workers) {
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      gone = kill(w, 0) != 0 ||
             read_file("/proc/" + std::to_string(w) + "/stat").find(") Z") != std::string::npos;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(gone);
  }

  Store store(killed.db());
  const int64_t id = store.list_runs(1).front().id;
  flowlab::cli::RunOptions options;
  options.workspace = killed.workspace();
  options.quiet = false;
  std::ostringstream out, err;
  std::atomic<bool> stop{false};
  auto resumed = flowlab::cli::resume_run(id, options, killed.registry(), out, err, stop);
  BOOST_REQUIRE_MESSAGE(resumed.exit_code == 0, err.str());
  // Equal metrics cannot tell a resume from a rerun: the loop says where it resumed.
  BOOST_TEST(err.str().find("resumed from checkpoint at round") != std::string::npos, err.str());
  const auto expected = deterministic_metrics(reference.db(), ref.outcome.run_id);
  const auto got = deterministic_metrics(killed.db(), id);
  BOOST_TEST(expected.count("fl.test_acc@300") == 1);
  BOOST_TEST((got == expected));
}

BOOST_AUTO_TEST_SUITE_END()
