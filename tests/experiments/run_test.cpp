// End-to-end runs of a tiny spec on a slice of Fashion-MNIST, through the same code as
// `flowlab run`, checked against what lands in the SQLite database.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "common/error.h"
#include "experiments/cli/runner.h"
#include "ops/torch_runtime.h"
#include "tests/support/child_process.h"
#include "tests/support/run_fixture.h"
#include "tracking/store.h"

namespace {

using flowlab::testing::ChildProcess;
using flowlab::testing::RunFixture;
using flowlab::tracking::RunStatus;
using flowlab::tracking::Store;

double final_metric(const Store& store, int64_t run, const std::string& node,
                    const std::string& key) {
  for (const auto& m : store.final_metrics(run))
    if (m.node == node && m.key == key) return m.value;
  BOOST_FAIL("metric " + node + "." + key + " not recorded");
  return 0;
}

std::map<std::string, std::string> node_status(const Store& store, int64_t run) {
  std::map<std::string, std::string> out;
  for (const auto& n : store.node_executions(run)) out[n.node] = n.status;
  return out;
}

// SQLite's own verdict on the database file ("ok" when every page and index is sound).
std::string integrity_check(const std::filesystem::path& db) {
  sqlite3* handle = nullptr;
  std::string verdict = "cannot open";
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
      verdict = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return verdict;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_run)

BOOST_AUTO_TEST_CASE(tiny_run_records_run_params_metrics_nodes_and_artifacts) {
  RunFixture f;
  auto r = f.run("tiny.yaml");
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  Store store(f.db());
  auto run = store.get_run(r.outcome.run_id);
  BOOST_REQUIRE(run);
  BOOST_TEST(flowlab::tracking::to_string(run->status) == "FINISHED");
  BOOST_TEST(run->experiment == "tiny");
  BOOST_TEST(run->seed == 7);
  BOOST_TEST(contains(run->composed_yaml, "op: train.classifier"));

  auto params = store.params(r.outcome.run_id);
  BOOST_TEST(params["train.model"] == "mlp");
  BOOST_TEST(params["train.seed"] == "7");  // inherited from the spec's top-level seed
  BOOST_TEST(params["train.lr"] == "0.001");
  BOOST_TEST(params["defaults.model"] == "mlp");

  // Per-step loss: 2 epochs x ceil(2000/64) = 64 steps, logged every 10 steps and at the end.
  int loss_rows = 0;
  for (const auto& m : store.metrics(r.outcome.run_id))
    loss_rows += m.node == "train" && m.key == "loss";
  BOOST_TEST(loss_rows == 7);
  // Learning happened: far above the 10% of chance on 1,000 held-out test images.
  double acc = final_metric(store, r.outcome.run_id, "eval", "accuracy");
  BOOST_TEST(acc > 0.6);
  BOOST_TEST(acc <= 1.0);

  auto nodes = node_status(store, r.outcome.run_id);
  BOOST_TEST(nodes["data"] == "FINISHED");
  BOOST_TEST(nodes["train"] == "FINISHED");
  BOOST_TEST(nodes["eval"] == "FINISHED");

  // The confusion matrix artifact exists, matches its recorded hash, and counts every test image.
  bool found = false;
  for (const auto& a : store.artifacts(r.outcome.run_id)) {
    if (a.path.find("confusion_matrix.csv") == std::string::npos) continue;
    found = true;
    BOOST_TEST(a.sha256 == flowlab::cli::sha256_file(a.path));
    std::ifstream in(a.path);
    std::string line;
    std::getline(in, line);  // header
    long total = 0, diagonal = 0;
    for (int row = 0; std::getline(in, line); ++row) {
      std::stringstream cells(line);
      std::string cell;
      std::getline(cells, cell, ',');  // class name
      for (int col = 0; std::getline(cells, cell, ','); ++col) {
        total += std::stol(cell);
        if (col == row) diagonal += std::stol(cell);
      }
    }
    BOOST_TEST(total == 1000);
    BOOST_TEST(static_cast<double>(diagonal) / total == acc, boost::test_tools::tolerance(1e-12));
  }
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(same_spec_and_seed_give_the_same_metrics_twice) {
  RunFixture a, b;
  auto ra = a.run("tiny.yaml", {}, /*no_cache=*/true);
  auto rb = b.run("tiny.yaml", {}, /*no_cache=*/true);
  BOOST_REQUIRE_EQUAL(ra.outcome.exit_code, 0);
  BOOST_REQUIRE_EQUAL(rb.outcome.exit_code, 0);
  Store sa(a.db()), sb(b.db());
  auto ma = sa.metrics(ra.outcome.run_id), mb = sb.metrics(rb.outcome.run_id);
  std::map<std::string, double> va, vb;
  for (const auto& m : ma)
    if (m.key != "samples_per_s" && m.key != "train_time_s")
      va[m.node + "." + m.key + "@" + std::to_string(m.step)] = m.value;
  for (const auto& m : mb)
    if (m.key != "samples_per_s" && m.key != "train_time_s")
      vb[m.node + "." + m.key + "@" + std::to_string(m.step)] = m.value;
  BOOST_TEST(va.size() > 20u);
  BOOST_TEST(va == vb);  // bit-for-bit equal: losses, validation and test metrics
}

BOOST_AUTO_TEST_CASE(unchanged_spec_is_served_from_cache) {
  RunFixture f;
  auto first = f.run("tiny.yaml");
  BOOST_REQUIRE_EQUAL(first.outcome.exit_code, 0);
  auto second = f.run("tiny.yaml");
  BOOST_REQUIRE_EQUAL(second.outcome.exit_code, 0);
  BOOST_TEST(second.seconds < 2.0);
  Store store(f.db());
  for (const auto& n : store.node_executions(second.outcome.run_id)) {
    BOOST_TEST(n.status == "CACHED", n.node);
    BOOST_TEST(n.cache_hit);
  }
  // The cached run carries the same final metrics as the run that computed them.
  BOOST_TEST(final_metric(store, second.outcome.run_id, "eval", "accuracy") ==
             final_metric(store, first.outcome.run_id, "eval", "accuracy"));
}

BOOST_AUTO_TEST_CASE(changing_an_eval_param_reruns_only_the_eval_node) {
  RunFixture f;
  auto first = f.run("tiny.yaml");
  BOOST_REQUIRE_EQUAL(first.outcome.exit_code, 0);
  auto second = f.run("tiny.yaml", {"+nodes.eval.params.split=val"});
  BOOST_REQUIRE_EQUAL(second.outcome.exit_code, 0);
  Store store(f.db());
  auto nodes = node_status(store, second.outcome.run_id);
  BOOST_TEST(nodes["data"] == "CACHED");
  BOOST_TEST(nodes["train"] == "CACHED");
  BOOST_TEST(nodes["eval"] == "FINISHED");
  // The trained model came from the cache: validation accuracy measured by eval on the val split
  // equals the trainer's own last validation accuracy.
  BOOST_TEST(final_metric(store, second.outcome.run_id, "eval", "accuracy") ==
                 final_metric(store, second.outcome.run_id, "train", "final_val_acc"),
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(no_cache_recomputes_every_node) {
  RunFixture f;
  BOOST_REQUIRE_EQUAL(f.run("tiny.yaml").outcome.exit_code, 0);
  auto again = f.run("tiny.yaml", {}, /*no_cache=*/true);
  BOOST_REQUIRE_EQUAL(again.outcome.exit_code, 0);
  Store store(f.db());
  const auto nodes = store.node_executions(again.outcome.run_id);
  BOOST_TEST(nodes.size() == 3u);
  for (const auto& n : nodes) BOOST_TEST(n.status == "FINISHED");  // computed, none CACHED
}

BOOST_AUTO_TEST_CASE(invalid_override_is_rejected_before_any_run_is_written) {
  RunFixture f;
  BOOST_REQUIRE_EQUAL(f.run("tiny.yaml").outcome.exit_code, 0);
  BOOST_CHECK_EXCEPTION(f.run("tiny.yaml", {"nodes.train.params.lr=fast"}), flowlab::ConfigError,
                        [](const flowlab::ConfigError& e) {
                          return contains(e.what(), "nodes.train.params.lr") &&
                                 contains(e.what(), "expected a number in (0, 10], got \"fast\"");
                        });
  Store store(f.db());
  BOOST_TEST(store.list_runs(100).size() == 1u);
}

BOOST_AUTO_TEST_CASE(unreadable_dataset_fails_the_run_and_keeps_earlier_runs) {
  RunFixture f;
  auto good = f.run("tiny.yaml");
  BOOST_REQUIRE_EQUAL(good.outcome.exit_code, 0);
  auto bad = f.run("tiny.yaml", {"nodes.data.params.path=/nonexistent/fmnist"});
  BOOST_TEST(bad.outcome.exit_code == 1);
  Store store(f.db());
  auto run = store.get_run(bad.outcome.run_id);
  BOOST_TEST(flowlab::tracking::to_string(run->status) == "FAILED");
  BOOST_TEST(contains(run->error, "/nonexistent/fmnist"));
  BOOST_TEST(contains(run->error, "node 'data' (op dataset.fashion_mnist)"));
  auto nodes = node_status(store, bad.outcome.run_id);
  BOOST_TEST(nodes["data"] == "FAILED");
  BOOST_TEST(nodes["train"] == "SKIPPED");
  BOOST_TEST(nodes["eval"] == "SKIPPED");
  // The earlier run is untouched.
  BOOST_TEST(flowlab::tracking::to_string(store.get_run(good.outcome.run_id)->status) ==
             "FINISHED");
  BOOST_TEST(final_metric(store, good.outcome.run_id, "eval", "accuracy") > 0.6);
}

BOOST_AUTO_TEST_CASE(nan_loss_stops_training_with_a_clear_message) {
  RunFixture f;
  auto r = f.run("tiny.yaml", {"optimizer=sgd", "nodes.train.params.lr=10"});
  BOOST_TEST(r.outcome.exit_code == 1);
  Store store(f.db());
  auto run = store.get_run(r.outcome.run_id);
  BOOST_TEST(flowlab::tracking::to_string(run->status) == "FAILED");
  BOOST_TEST(contains(run->error, "loss became"));
  BOOST_TEST(contains(run->error, "params.lr"));
}

BOOST_AUTO_TEST_CASE(shipped_quickstart_spec_composes_and_validates) {
  RunFixture f;
  flowlab::cli::RunOptions options;
  options.spec = flowlab::testing::source_dir() / "experiments/quickstart.yaml";
  options.print_config = true;
  std::ostringstream out, err;
  std::atomic<bool> stop{false};
  auto outcome = flowlab::cli::run_spec(options, f.registry(), out, err, stop);
  BOOST_TEST(outcome.run_id == 0);  // --cfg records nothing
  BOOST_TEST(contains(out.str(), "op: train.classifier"));
  BOOST_TEST(contains(out.str(), "model: cnn"));
  BOOST_TEST(!std::filesystem::exists(f.db()));
}

namespace {

// Starts a real, long `flowlab run` in `ws` and waits until its training logs a loss.
ChildProcess start_training(const std::filesystem::path& ws) {
  std::string spec = (flowlab::testing::source_dir() / "tests/data/specs/tiny.yaml").string();
  std::string configs = (flowlab::testing::source_dir() / "configs").string();
  std::fflush(stdout);  // or the child flushes the parent's buffered test output a second time
  ChildProcess child(fork());
  if (child.pid() == 0) {
    if (!freopen("/dev/null", "w", stdout)) _exit(126);  // keep the run summary out of test logs
    if (!freopen("/dev/null", "w", stderr)) _exit(126);
    execl(FLOWLAB_BINARY, FLOWLAB_BINARY, "run", spec.c_str(), "--config-dir", configs.c_str(),
          "--workspace", ws.c_str(), "-q", "nodes.train.params.epochs=10000", (char*)nullptr);
    _exit(127);
  }
  bool training = false;
  int status = 0;
  for (int i = 0; i < 600 && !training; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_REQUIRE_MESSAGE(!child.ended(status), "flowlab exited before training");
    if (!std::filesystem::exists(ws / "runs.db")) continue;
    try {
      Store store(ws / "runs.db");
      auto runs = store.list_runs(1);
      if (runs.empty()) continue;
      for (const auto& m : store.metrics(runs.front().id)) training |= m.key == "loss";
    } catch (const std::exception&) {
    }
  }
  BOOST_REQUIRE(training);  // if not, `child` kills and reaps the process on the way out
  return child;
}

}  // namespace

// A disk that fills up while a node writes (here: files may not grow past 512 KiB, so the dataset's
// cache entry fails with EFBIG, as a full disk fails with ENOSPC). Before the fix LibTorch's
// writer terminated the process from a destructor (exit 134), leaving the run RUNNING and a
// staging directory behind.
BOOST_AUTO_TEST_CASE(a_full_disk_fails_the_node_and_the_run_cleanly_and_keeps_earlier_runs) {
  RunFixture f;
  auto good = f.run("tiny.yaml");
  BOOST_REQUIRE_EQUAL(good.outcome.exit_code, 0);
  const std::string spec = (flowlab::testing::source_dir() / "tests/data/specs/tiny.yaml").string();
  const std::string configs = (flowlab::testing::source_dir() / "configs").string();
  const std::string ws = f.workspace().string();
  flowlab::testing::TempDir dir;
  const std::string err_file = (dir / "stderr.txt").string();
  std::fflush(stdout);
  ChildProcess child(fork());
  if (child.pid() == 0) {
    rlimit limit{512 * 1024, 512 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(125);
    signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG instead of killing
    if (!freopen("/dev/null", "w", stdout)) _exit(126);
    if (!freopen(err_file.c_str(), "w", stderr)) _exit(126);
    // A new dataset slice, so its cache entry (about 1.6 MB) has to be written.
    execl(FLOWLAB_BINARY, FLOWLAB_BINARY, "run", spec.c_str(), "--config-dir", configs.c_str(),
          "--workspace", ws.c_str(), "-q", "nodes.data.params.limit_train=1900", (char*)nullptr);
    _exit(127);
  }
  const int status = child.wait();
  std::ifstream in(err_file);
  const std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST_MESSAGE("stderr: " << err);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 1);
  BOOST_TEST(contains(err, "tensors.pt"));
  BOOST_TEST(contains(err, "File too large"));

  Store store(f.db());
  BOOST_TEST(integrity_check(f.db()) == "ok");
  auto runs = store.list_runs(10);
  BOOST_REQUIRE_EQUAL(runs.size(), 2u);
  const auto& failed = runs.front();
  BOOST_TEST(flowlab::tracking::to_string(failed.status) == "FAILED");
  BOOST_TEST(contains(failed.error, "tensors.pt"));
  auto nodes = node_status(store, failed.id);
  BOOST_TEST(nodes["data"] == "FAILED");
  BOOST_TEST(nodes["train"] == "SKIPPED");
  BOOST_TEST(std::filesystem::is_empty(f.workspace() / "cache" / "staging"));
  // The earlier run is whole.
  BOOST_TEST(flowlab::tracking::to_string(store.get_run(good.outcome.run_id)->status) ==
             "FINISHED");
  BOOST_TEST(final_metric(store, good.outcome.run_id, "eval", "accuracy") > 0.6);
}

// Ctrl-C on a real `flowlab run` process: exit code 130, run and node marked KILLED.
BOOST_AUTO_TEST_CASE(interrupt_marks_the_run_killed, *boost::unit_test::label("slow")) {
  flowlab::testing::TempDir dir;
  ChildProcess process = start_training(dir / "ws");
  process.send(SIGINT);
  const int status = process.wait();
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 130);
  Store store(dir / "ws" / "runs.db");
  auto run = store.list_runs(1).front();
  BOOST_TEST(flowlab::tracking::to_string(run.status) == "KILLED");
  auto nodes = node_status(store, run.id);
  BOOST_TEST(nodes["train"] == "KILLED");
  BOOST_TEST(nodes["eval"] == "KILLED");
}

// Ctrl-C twice quits at once, and the run is still recorded KILLED (not left RUNNING/STALE).
BOOST_AUTO_TEST_CASE(a_second_interrupt_quits_at_once_and_marks_the_run_killed,
                     *boost::unit_test::label("slow")) {
  flowlab::testing::TempDir dir;
  ChildProcess process = start_training(dir / "ws");
  process.send(SIGINT);
  // Apart enough that they are two deliveries (pending signals merge), soon enough that the first
  // has usually not finished stopping: without the fix that run stays RUNNING.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  process.send(SIGINT);
  const int status = process.wait();
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 130);
  Store store(dir / "ws" / "runs.db");
  auto run = store.list_runs(1).front();
  BOOST_TEST(flowlab::tracking::to_string(run.status) == "KILLED");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
bool cuda_available() {
  static const bool available = [] {
    try {
      return flowlab::ops::resolve_device("auto") == "cuda";
    } catch (const std::exception&) {
      return false;
    }
  }();
  return available;
}
struct LacksCuda {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r(!cuda_available());
    r.message() << "CUDA is available: the cuda-labelled test covers this build";
    return r;
  }
};
struct RequiresCuda {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result r(cuda_available());
    r.message() << "no CUDA device in this LibTorch build or machine";
    return r;
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_run_device)

// Skipped (and reported so) where CUDA works: the positive case is the cuda-labelled test below.
BOOST_AUTO_TEST_CASE(asking_for_cuda_without_a_gpu_fails_with_a_clear_message,
                     *boost::unit_test::precondition(LacksCuda())) {
  RunFixture f;
  auto r = f.run("tiny.yaml", {"device=cuda"});
  BOOST_TEST(r.outcome.exit_code == 1);
  Store store(f.db());
  BOOST_TEST(contains(store.get_run(r.outcome.run_id)->error, "device: cuda was requested"));
}

BOOST_AUTO_TEST_CASE(tiny_run_on_cuda_learns, *boost::unit_test::label("cuda") *
                                                  boost::unit_test::precondition(RequiresCuda())) {
  RunFixture f;
  auto r = f.run("tiny.yaml", {"device=cuda"});
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  Store store(f.db());
  BOOST_TEST(final_metric(store, r.outcome.run_id, "eval", "accuracy") > 0.6);
}

BOOST_AUTO_TEST_SUITE_END()
