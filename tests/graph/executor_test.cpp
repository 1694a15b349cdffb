// Tests for the TBB executor and the node cache (graph/executor.cpp, graph/cache.cpp), run with
// the fake ops: concurrency and the thread budget, failure and cancellation propagation, and
// what a second run computes, loads or replays from the cache.
#include "graph/executor.h"

#include <chrono>
#include <fstream>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "graph/cache.h"
#include "tests/support/fake_ops.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using flowlab::ExecutionResult;
using flowlab::NodeStatus;
using flowlab::Plan;
using flowlab::testing::RecordingListener;
using flowlab::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

const flowlab::Registry& registry() {
  static const flowlab::Registry r = flowlab::testing::fake_registry();
  return r;
}

Plan plan_text(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return flowlab::make_plan(flowlab::compose_text(yaml, "spec.yaml", {}, overrides), registry());
}

// One cache directory per test; the fake ops' global logs are cleared for each.
struct Fixture {
  TempDir dir;
  Fixture() { flowlab::testing::reset_fake_logs(); }

  ExecutionResult run(const Plan& plan, RecordingListener& listener, int threads = 1,
                      bool read_cache = true, const std::atomic<bool>* stop = nullptr) {
    flowlab::ExecuteOptions options;
    options.threads = threads;
    options.read_cache = read_cache;
    options.cache_dir = dir / "cache";
    options.stop = stop;
    options.checkpoint_dir = dir / "checkpoints";
    return flowlab::execute(plan, registry(), listener, options);
  }
  ExecutionResult run(const Plan& plan, int threads = 1, bool read_cache = true) {
    RecordingListener listener;
    return run(plan, listener, threads, read_cache);
  }
};

std::string status(const Plan& plan, const ExecutionResult& r, const std::string& node) {
  for (size_t i = 0; i < plan.nodes.size(); ++i)
    if (plan.nodes[i].name == node) return flowlab::to_string(r.outcomes.at(i).status);
  BOOST_FAIL("no node " << node);
  return "";
}

const flowlab::NodeOutcome& outcome(const Plan& plan, const ExecutionResult& r,
                                    const std::string& node) {
  for (size_t i = 0; i < plan.nodes.size(); ++i)
    if (plan.nodes[i].name == node) return r.outcomes.at(i);
  throw std::logic_error("no node " + node);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Two sources, a sum of them and an independent third source, all with run-counting ops.
const char* kCounted =
    "nodes:\n"
    "  a: {op: test.count, params: {value: 1}}\n"
    "  b: {op: test.count, params: {value: 2}}\n"
    "  sum: {op: test.add, inputs: {a: a, b: b}}\n"
    "  c: {op: test.count, params: {value: 3}}\n";

// Two sleeps of (about) 300 ms; their ms differ by one so their cache keys differ too.
const char* kTwoSleeps =
    "nodes:\n"
    "  s1: {op: test.sleep, params: {ms: 300}}\n"
    "  s2: {op: test.sleep, params: {ms: 301}}\n";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(graph_executor, Fixture)

// --- concurrency ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(independent_nodes_overlap_with_two_threads) {
  Plan plan = plan_text(kTwoSleeps);
  auto t0 = Clock::now();
  auto r = run(plan, /*threads=*/2);
  double wall = ms_between(t0, Clock::now());
  BOOST_TEST(r.concurrency == 2);
  BOOST_TEST(r.budget == 2);
  auto log = flowlab::testing::sleep_log();
  BOOST_REQUIRE(log.size() == 2u);
  BOOST_TEST((log[0].start < log[1].end && log[1].start < log[0].end),
             "the two sleeps did not overlap");
  BOOST_TEST(wall < 550.0);
  BOOST_TEST(status(plan, r, "s1") == "FINISHED");
  BOOST_TEST(status(plan, r, "s2") == "FINISHED");
}

BOOST_AUTO_TEST_CASE(one_thread_runs_nodes_one_after_another) {
  Plan plan = plan_text(kTwoSleeps);
  auto t0 = Clock::now();
  auto r = run(plan, /*threads=*/1);
  double wall = ms_between(t0, Clock::now());
  BOOST_TEST(r.concurrency == 1);
  auto log = flowlab::testing::sleep_log();
  BOOST_REQUIRE(log.size() == 2u);
  BOOST_TEST(!(log[0].start < log[1].end && log[1].start < log[0].end),
             "the two sleeps overlapped");
  BOOST_TEST(wall >= 600.0);
}

BOOST_AUTO_TEST_CASE(a_node_runs_with_its_planned_threads_whatever_the_budget) {
  // test.threaded declares 2 threads; a node's `threads:` overrides. The budget (1 or 5) and the
  // siblings never change them: results that depend on threads stay reproducible.
  Plan plan = plan_text(
      "nodes:\n  a: {op: test.threaded}\n  b: {op: test.threaded, threads: 3, params: {value: 1}}\n"
      "  c: {op: test.sleep, params: {ms: 0}}\n");
  BOOST_TEST(plan.find("a")->threads == 2);
  BOOST_TEST(plan.find("b")->threads == 3);
  BOOST_TEST(plan.find("c")->threads == 0);  // an op that uses no intra-op threads
  for (int budget : {1, 5}) {
    flowlab::Registry reg = registry();
    std::mutex mutex;
    std::map<std::string, int> applied;  // what the runtime hook was told, by the node's thread
    reg.set_runtime({[&](int threads) {
                       std::lock_guard<std::mutex> lock(mutex);
                       applied[std::to_string(threads)]++;
                     },
                     nullptr});
    RecordingListener listener;
    flowlab::ExecuteOptions options;
    options.threads = budget;
    options.read_cache = false;
    options.cache_dir = dir / "cache";
    auto r = flowlab::execute(plan, reg, listener, options);
    BOOST_TEST(r.budget == budget);
    BOOST_TEST((listener.values("a", "threads") == std::vector<double>{2}));
    BOOST_TEST((listener.values("b", "threads") == std::vector<double>{3}));
    BOOST_TEST((applied == std::map<std::string, int>{{"2", 1}, {"3", 1}}));  // not for c
  }
}

BOOST_AUTO_TEST_CASE(nodes_side_by_side_never_hold_more_threads_than_the_budget) {
  // Two 300 ms nodes of 2 threads each: a budget of 2 runs them one after the other, 4 together.
  const char* spec =
      "nodes:\n  s1: {op: test.threaded_sleep, threads: 2, params: {ms: 300}}\n"
      "  s2: {op: test.threaded_sleep, threads: 2, params: {ms: 301}}\n";
  for (int budget : {2, 4}) {
    flowlab::testing::reset_fake_logs();
    auto r = run(plan_text(spec), budget, /*read_cache=*/false);
    BOOST_TEST(r.concurrency == 2);  // two workers either way: the budget decides who starts
    auto log = flowlab::testing::sleep_log();
    BOOST_REQUIRE(log.size() == 2u);
    bool overlap = log[0].start < log[1].end && log[1].start < log[0].end;
    BOOST_TEST(overlap == (budget == 4), "budget " << budget);
  }
}

BOOST_AUTO_TEST_CASE(results_flow_along_edges) {
  Plan plan = plan_text(
      "nodes:\n"
      "  a: {op: test.const, params: {value: 1.5}}\n"
      "  b: {op: test.const, params: {value: 2}}\n"
      "  sum: {op: test.add, inputs: {a: a, b: b}}\n"
      "  next: {op: test.follow, inputs: {x: sum}, params: {offset: 10}}\n");
  RecordingListener listener;
  auto r = run(plan, listener, 2);
  BOOST_TEST(!r.failed);
  BOOST_TEST((listener.values("sum", "sum") == std::vector<double>{3.5}));
  BOOST_TEST((listener.values("next", "result") == std::vector<double>{13.5}));
  // Every node was started and reported as finished exactly once.
  BOOST_TEST(listener.started().size() == 4u);
  BOOST_TEST(listener.finished().size() == 4u);
}

// --- failure and cancellation --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(failure_skips_dependents_and_spares_independent_nodes) {
  Plan plan = plan_text(
      "nodes:\n"
      "  bad: {op: test.fail}\n"
      "  after: {op: test.follow, inputs: {x: bad}}\n"
      "  later: {op: test.follow, inputs: {x: after}}\n"
      "  ok: {op: test.const, params: {value: 1}}\n"
      "  ok_next: {op: test.follow, inputs: {x: ok}}\n");
  RecordingListener listener;
  auto r = run(plan, listener, 2);
  BOOST_TEST(r.failed);
  BOOST_TEST(!r.killed);
  BOOST_TEST(status(plan, r, "bad") == "FAILED");
  BOOST_TEST(contains(outcome(plan, r, "bad").error,
                      "node 'bad' (op test.fail) failed: deliberate failure"));
  BOOST_TEST(status(plan, r, "after") == "SKIPPED");
  BOOST_TEST(contains(outcome(plan, r, "after").error, "'bad'"));
  BOOST_TEST(status(plan, r, "later") == "SKIPPED");
  BOOST_TEST(status(plan, r, "ok") == "FINISHED");
  BOOST_TEST(status(plan, r, "ok_next") == "FINISHED");
  BOOST_TEST(flowlab::testing::runs_of("after") == 0);
  BOOST_TEST((listener.finished().at("after") == NodeStatus::kSkipped));

  // A failed node leaves no cache entry and no staging directory behind; a rerun retries it.
  BOOST_TEST(fs::is_empty(dir / "cache" / "staging"));
  auto again = run(plan, 2);
  BOOST_TEST(status(plan, again, "bad") == "FAILED");
  BOOST_TEST(flowlab::testing::runs_of("bad") == 2);
  BOOST_TEST(status(plan, again, "ok_next") == "CACHED");
}

BOOST_AUTO_TEST_CASE(stop_flag_kills_the_running_node_and_its_dependents) {
  Plan plan = plan_text(
      "nodes:\n"
      "  wait: {op: test.wait_for_stop}\n"
      "  after: {op: test.follow, inputs: {x: wait}}\n"
      "  later: {op: test.follow, inputs: {x: after}}\n");
  std::atomic<bool> stop{false};
  RecordingListener listener;
  Clock::time_point stopped_at;
  std::thread stopper([&] {
    // Wait until the node is really running, then interrupt as Ctrl-C would.
    while (flowlab::testing::runs_of("wait") == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stopped_at = Clock::now();
    stop = true;
  });
  auto r = run(plan, listener, 2, true, &stop);
  auto returned_at = Clock::now();
  stopper.join();
  BOOST_TEST(r.killed);
  BOOST_TEST(!r.failed);
  BOOST_TEST(status(plan, r, "wait") == "KILLED");
  BOOST_TEST(status(plan, r, "after") == "KILLED");
  BOOST_TEST(status(plan, r, "later") == "KILLED");
  BOOST_TEST(contains(outcome(plan, r, "after").error, "interrupted"));
  BOOST_TEST(flowlab::testing::runs_of("after") == 0);
  // The stop was noticed promptly, not after the op's 5 s safety limit.
  BOOST_TEST(ms_between(stopped_at, returned_at) < 1000.0);
  // Nothing of the interrupted node reached the cache.
  BOOST_TEST(
      !fs::exists(dir / "cache" / plan.find("wait")->key.substr(0, 2) / plan.find("wait")->key));
}

BOOST_AUTO_TEST_CASE(stop_before_the_run_kills_every_node_without_running_it) {
  Plan plan = plan_text(kCounted);
  std::atomic<bool> stop{true};
  RecordingListener listener;
  auto r = run(plan, listener, 2, true, &stop);
  BOOST_TEST(r.killed);
  for (const auto& n : plan.nodes) BOOST_TEST(status(plan, r, n.name) == "KILLED");
  BOOST_TEST(flowlab::testing::runs_log().empty());
  BOOST_TEST(listener.started().empty());
}

// --- caching -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(second_run_is_served_from_the_cache_and_replays_metrics) {
  Plan plan = plan_text(kCounted);
  RecordingListener first;
  auto r1 = run(plan, first, 2);
  BOOST_TEST(flowlab::testing::count_runs() == 3);
  for (const auto& n : plan.nodes) BOOST_TEST(status(plan, r1, n.name) == "FINISHED");

  size_t ran = flowlab::testing::runs_log().size();
  RecordingListener second;
  auto r2 = run(plan, second, 2);
  BOOST_TEST(flowlab::testing::count_runs() == 3);  // no op body ran again
  BOOST_TEST(flowlab::testing::runs_log().size() == ran);
  for (const auto& n : plan.nodes) BOOST_TEST(status(plan, r2, n.name) == "CACHED");
  // The same metrics, with their steps, reach the listener again.
  BOOST_TEST((second.values("a", "value") == std::vector<double>{1, 2}));
  BOOST_TEST((second.values("sum", "sum") == std::vector<double>{3}));
  std::vector<int64_t> steps;
  for (const auto& m : second.metrics())
    if (m.node == "c") steps.push_back(m.step);
  BOOST_TEST((steps == std::vector<int64_t>{0, 1}));
  BOOST_TEST(second.metrics().size() == first.metrics().size());
}

BOOST_AUTO_TEST_CASE(changing_a_param_recomputes_that_node_and_its_dependents_only) {
  Plan plan = plan_text(kCounted);
  run(plan, 2);
  Plan changed = plan_text(kCounted, {"nodes.a.params.value=10"});
  RecordingListener listener;
  auto r = run(changed, listener, 2);
  BOOST_TEST(status(changed, r, "a") == "FINISHED");
  BOOST_TEST(status(changed, r, "sum") == "FINISHED");
  BOOST_TEST(status(changed, r, "b") == "CACHED");
  BOOST_TEST(status(changed, r, "c") == "CACHED");
  BOOST_TEST(flowlab::testing::count_runs() == 4);  // 3 + a
  BOOST_TEST(flowlab::testing::runs_of("b") == 1);
  // b's output came back from the cache intact.
  BOOST_TEST((listener.values("sum", "sum") == std::vector<double>{12}));
}

BOOST_AUTO_TEST_CASE(read_cache_false_recomputes_everything_and_refreshes_entries) {
  Plan plan = plan_text(kCounted);
  run(plan, 2);
  auto r = run(plan, 2, /*read_cache=*/false);
  for (const auto& n : plan.nodes) BOOST_TEST(status(plan, r, n.name) == "FINISHED");
  BOOST_TEST(flowlab::testing::count_runs() == 6);
  BOOST_TEST(flowlab::testing::runs_of("sum") == 2);
  // The refreshed entries are complete: the next run is all cached.
  auto r3 = run(plan, 2);
  for (const auto& n : plan.nodes) BOOST_TEST(status(plan, r3, n.name) == "CACHED");
  BOOST_TEST(flowlab::testing::count_runs() == 6);
  BOOST_TEST(fs::is_empty(dir / "cache" / "staging"));
}

BOOST_AUTO_TEST_CASE(cached_producer_is_loaded_or_recomputed_for_a_recomputed_consumer) {
  // p stores its output; q (cache_output = false) does not, so q must run again when a consumer
  // that reads it is recomputed.
  const char* spec =
      "nodes:\n"
      "  p: {op: test.count, params: {value: 5}}\n"
      "  q: {op: test.count_nocache, params: {value: 7}}\n"
      "  fp: {op: test.follow, inputs: {x: p}}\n"
      "  fq: {op: test.follow, inputs: {x: q}}\n";
  Plan plan = plan_text(spec);
  run(plan, 2);
  BOOST_TEST(flowlab::testing::count_runs() == 1);
  BOOST_TEST(flowlab::testing::count_nocache_runs() == 1);
  flowlab::NodeCache cache(dir / "cache");
  BOOST_TEST(cache.lookup(plan.find("p")->key)->has_output);
  BOOST_TEST(!cache.lookup(plan.find("q")->key)->has_output);
  BOOST_TEST(!fs::exists(cache.entry(plan.find("q")->key) / "output" / "value.txt"));

  Plan changed = plan_text(spec, {"++nodes.fp.params.offset=1", "++nodes.fq.params.offset=1"});
  RecordingListener listener;
  auto r = run(changed, listener, 2);
  BOOST_TEST(status(changed, r, "p") == "CACHED");
  BOOST_TEST(flowlab::testing::count_runs() == 1);  // loaded, not recomputed
  BOOST_TEST(status(changed, r, "q") == "FINISHED");
  BOOST_TEST(flowlab::testing::count_nocache_runs() == 2);
  BOOST_TEST((listener.values("fp", "result") == std::vector<double>{6}));
  BOOST_TEST((listener.values("fq", "result") == std::vector<double>{8}));

  // When nothing downstream needs q's output, q stays cached (its metrics are replayed).
  RecordingListener third;
  auto r3 = run(changed, third, 2);
  BOOST_TEST(status(changed, r3, "q") == "CACHED");
  BOOST_TEST(flowlab::testing::count_nocache_runs() == 2);
  BOOST_TEST((third.values("q", "value") == std::vector<double>{7, 8}));
}

BOOST_AUTO_TEST_CASE(nodes_with_equal_keys_in_one_run_both_finish) {
  // Two nodes computing the same thing race to commit one cache entry; neither may fail.
  Plan plan = plan_text(
      "nodes:\n  x: {op: test.count, params: {value: 4}}\n  y: {op: test.count, params: {value: "
      "4}}\n"
      "  sum: {op: test.add, inputs: {a: x, b: y}}\n");
  BOOST_REQUIRE(plan.find("x")->key == plan.find("y")->key);
  RecordingListener listener;
  auto r = run(plan, listener, 2);
  BOOST_TEST(!r.failed);
  BOOST_TEST((listener.values("sum", "sum") == std::vector<double>{8}));
  auto again = run(plan, 2);
  for (const auto& n : plan.nodes) BOOST_TEST(status(plan, again, n.name) == "CACHED");
  BOOST_TEST(fs::is_empty(dir / "cache" / "staging"));
}

BOOST_AUTO_TEST_CASE(one_producer_may_feed_two_ports) {
  Plan plan = plan_text(
      "nodes:\n  x: {op: test.const, params: {value: 2.5}}\n  sum: {op: test.add, inputs: {a: x, "
      "b: x}}\n");
  RecordingListener listener;
  run(plan, listener, 2);
  BOOST_TEST((listener.values("sum", "sum") == std::vector<double>{5}));
}

BOOST_AUTO_TEST_CASE(damaged_cache_record_is_a_miss) {
  Plan plan = plan_text("nodes:\n  a: {op: test.count, params: {value: 1}}\n");
  run(plan);
  flowlab::NodeCache cache(dir / "cache");
  std::ofstream(cache.entry(plan.nodes[0].key) / "record.json") << "{ not json";
  BOOST_TEST(!cache.lookup(plan.nodes[0].key).has_value());
  auto r = run(plan);
  BOOST_TEST(status(plan, r, "a") == "FINISHED");
  BOOST_TEST(flowlab::testing::count_runs() == 2);
  BOOST_TEST(cache.lookup(plan.nodes[0].key).has_value());  // rewritten
}

BOOST_AUTO_TEST_CASE(an_entry_whose_bytes_changed_is_recomputed_not_reused) {
  // The key names the inputs, not the bytes: a checksum per file catches a damaged entry.
  Plan plan = plan_text(
      "nodes:\n  a: {op: test.count, params: {value: 1}}\n"
      "  b: {op: test.follow, inputs: {x: a}, params: {offset: 2}}\n");
  RecordingListener first;
  run(plan, first);
  BOOST_TEST((first.values("b", "result") == std::vector<double>{3}));
  flowlab::NodeCache cache(dir / "cache");
  const fs::path value = cache.entry(plan.nodes[0].key) / "output/value.txt";
  BOOST_REQUIRE(fs::exists(value));
  std::ofstream(value) << "9999";  // same size class, other bytes: only a checksum can tell
  BOOST_TEST(!cache.lookup(plan.nodes[0].key).has_value());
  // b needs a again (its param changed): a is recomputed, and b reads the right value.
  Plan changed = plan_text(
      "nodes:\n  a: {op: test.count, params: {value: 1}}\n"
      "  b: {op: test.follow, inputs: {x: a}, params: {offset: 5}}\n");
  RecordingListener second;
  auto r = run(changed, second);
  BOOST_TEST(status(changed, r, "a") == "FINISHED");
  BOOST_TEST(flowlab::testing::count_runs() == 2);
  BOOST_TEST((second.values("b", "result") == std::vector<double>{6}));
  BOOST_TEST(cache.lookup(plan.nodes[0].key).has_value());  // rewritten, checksums match again
}

// --- a full disk -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_full_disk_while_saving_the_output_fails_the_node_and_leaves_no_staging) {
  Plan plan = plan_text(
      "nodes:\n  w: {op: test.write_error, params: {where: output}}\n"
      "  c: {op: test.count, params: {value: 1}}\n");
  auto r = run(plan);
  BOOST_TEST(status(plan, r, "w") == "FAILED");
  BOOST_TEST(contains(outcome(plan, r, "w").error, "No space left on device"));
  BOOST_TEST(contains(outcome(plan, r, "w").error, "value.txt"));
  BOOST_TEST(status(plan, r, "c") == "FINISHED");  // independent nodes are spared
  BOOST_TEST(fs::is_empty(dir / "cache" / "staging"));
  flowlab::NodeCache cache(dir / "cache");
  BOOST_TEST(!fs::exists(cache.entry(plan.find("w")->key)));
  BOOST_TEST(cache.lookup(plan.find("c")->key).has_value());
}

BOOST_AUTO_TEST_CASE(a_checkpoint_the_storage_refuses_fails_the_node) {
  Plan plan = plan_text("nodes:\n  w: {op: test.write_error, params: {where: checkpoint}}\n");
  auto r = run(plan);
  BOOST_TEST(status(plan, r, "w") == "FAILED");
  BOOST_TEST(contains(outcome(plan, r, "w").error, "checkpoint not saved"));
  BOOST_TEST(contains(outcome(plan, r, "w").error, "state.bin"));
  BOOST_TEST(fs::is_empty(dir / "cache" / "staging"));
}

BOOST_AUTO_TEST_CASE(a_checkpoint_lost_to_another_kind_of_error_is_only_a_warning) {
  // EBUSY stands for a race with another process over the same path: the node goes on.
  Plan plan =
      plan_text("nodes:\n  w: {op: test.write_error, params: {where: checkpoint, code: 16}}\n");
  auto r = run(plan);
  BOOST_TEST(status(plan, r, "w") == "FINISHED");
}

// --- the thread budget ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_node_waiting_for_threads_when_the_run_is_interrupted_does_not_start) {
  Plan plan = plan_text(
      "nodes:\n  s1: {op: test.threaded_sleep, threads: 2, params: {ms: 400}}\n"
      "  s2: {op: test.threaded_sleep, threads: 2, params: {ms: 401}}\n");
  std::atomic<bool> stop{false};
  std::thread interrupt([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // s1 runs, s2 waits
    stop = true;
  });
  RecordingListener listener;
  auto r = run(plan, listener, /*threads=*/2, /*read_cache=*/false, &stop);
  interrupt.join();
  BOOST_TEST(r.killed);
  BOOST_TEST(flowlab::testing::sleep_log().size() == 1u);  // only the one that had started
}

BOOST_AUTO_TEST_CASE(max_concurrency_is_capped_by_budget_nodes_and_jobs) {
  Plan plan = plan_text(
      "nodes:\n  a: {op: test.const}\n  b: {op: test.const, params: {value: 1}}\n"
      "  c: {op: test.const, params: {value: 2}}\n");
  BOOST_TEST(flowlab::max_concurrency(plan, {true, false, false}, 6) == 1);
  BOOST_TEST(flowlab::max_concurrency(plan, {true, true, false}, 6) == 2);
  BOOST_TEST(flowlab::max_concurrency(plan, {false, false, false}, 6) == 1);
  BOOST_TEST(flowlab::max_concurrency(plan, {true, true, true}, 2) == 2);
  BOOST_TEST(flowlab::max_concurrency(plan, {true, true, true}, 8, /*jobs=*/2) == 2);
  // A budget below one thread still runs one node.
  BOOST_TEST(flowlab::max_concurrency(plan, {true, true, true}, 0) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
