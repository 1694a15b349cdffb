// Tests for graph/cache_admin.h: listing entries and staging directories, pins and the gc lock
// that keep gc away from what a running executor may read, and removing an entry.
#include "graph/cache_admin.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "common/error.h"
#include "graph/cache.h"
#include "graph/executor.h"
#include "tests/support/fake_ops.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using flowlab::CacheGcLock;
using flowlab::CachePin;
using flowlab::NodeCache;
using flowlab::testing::TempDir;

namespace {

// An entry of `bytes` bytes of payload (files/data.bin) written as a node would.
void make_entry(const NodeCache& cache, const std::string& key, const std::string& op,
                size_t bytes) {
  const fs::path staging = cache.stage(key);
  std::ofstream(staging / "files" / "data.bin") << std::string(bytes, 'x');
  flowlab::CacheRecord record;
  record.op = op;
  record.node = "n";
  record.files.push_back({"data.bin", "blob"});
  cache.commit(staging, key, record);
}

std::string key_of(int n) { return fmt::format("{:032x}", 0xab00 + n); }

}  // namespace

BOOST_AUTO_TEST_SUITE(cache_admin)

BOOST_AUTO_TEST_CASE(scan_lists_every_entry_with_its_op_and_bytes) {
  TempDir dir;
  NodeCache cache(dir / "cache");
  make_entry(cache, key_of(1), "test.const", 1000);
  make_entry(cache, key_of(2), "test.add", 10);
  const auto entries = flowlab::scan_cache(dir / "cache");
  BOOST_TEST_REQUIRE(entries.size() == 2u);
  BOOST_TEST(entries[0].key == key_of(1));
  BOOST_TEST(entries[0].op == "test.const");
  BOOST_TEST(entries[0].complete);
  // The payload plus the record: every byte the entry holds.
  const auto record_bytes = fs::file_size(cache.entry(key_of(1)) / "record.json");
  BOOST_TEST(entries[0].bytes == static_cast<int64_t>(1000 + record_bytes));
  BOOST_TEST(entries[1].op == "test.add");
  // The staging directory, pins and the lock are not entries.
  BOOST_TEST(fs::exists(dir / "cache" / "staging"));
}

BOOST_AUTO_TEST_CASE(remove_entry_renames_it_away_and_frees_its_bytes) {
  TempDir dir;
  NodeCache cache(dir / "cache");
  make_entry(cache, key_of(1), "test.const", 500);
  const auto before = flowlab::scan_cache(dir / "cache");
  BOOST_TEST(flowlab::remove_cache_entry(dir / "cache", key_of(1)) == before.at(0).bytes);
  BOOST_TEST(!fs::exists(cache.entry(key_of(1))));
  BOOST_TEST(!cache.lookup(key_of(1)).has_value());
  BOOST_TEST(flowlab::scan_staging(dir / "cache").empty());  // nothing left behind
  BOOST_TEST(flowlab::remove_cache_entry(dir / "cache", key_of(1)) == 0);
}

BOOST_AUTO_TEST_CASE(staging_names_give_the_process) {
  TempDir dir;
  NodeCache cache(dir / "cache");
  const fs::path s = cache.stage(key_of(3));
  const auto staging = flowlab::scan_staging(dir / "cache");
  BOOST_TEST_REQUIRE(staging.size() == 1u);
  BOOST_TEST(staging[0].path == s);
  BOOST_TEST(staging[0].pid == getpid());
}

BOOST_AUTO_TEST_CASE(a_pin_names_its_process_and_keys_and_goes_with_it) {
  TempDir dir;
  {
    const CachePin pin(dir / "cache", {key_of(1), key_of(2)});
    const auto pins = flowlab::read_pins(dir / "cache");
    BOOST_TEST_REQUIRE(pins.size() == 1u);
    BOOST_TEST(pins[0].pid == getpid());
    BOOST_TEST(pins[0].host == flowlab::local_host_name());
    BOOST_TEST((pins[0].keys == std::vector<std::string>{key_of(1), key_of(2)}));
  }
  BOOST_TEST(flowlab::read_pins(dir / "cache").empty());
}

BOOST_AUTO_TEST_CASE(no_pin_is_written_while_gc_holds_the_lock) {
  TempDir dir;
  std::promise<void> pinned, release;
  std::future<void> pinned_f = pinned.get_future();
  std::thread runner;
  {
    const CacheGcLock lock(dir / "cache");
    runner = std::thread([&, f = release.get_future()]() mutable {
      const CachePin pin(dir / "cache", {key_of(1)});
      pinned.set_value();
      f.wait();
    });
    // The executor's pin waits for gc to finish.
    BOOST_TEST((pinned_f.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout));
    BOOST_TEST(flowlab::read_pins(dir / "cache").empty());
  }
  BOOST_TEST((pinned_f.wait_for(std::chrono::seconds(10)) == std::future_status::ready));
  BOOST_TEST(flowlab::read_pins(dir / "cache").size() == 1u);
  release.set_value();
  runner.join();
}

BOOST_AUTO_TEST_CASE(a_second_gc_lock_times_out_with_a_clear_error) {
  TempDir dir;
  const CacheGcLock first(dir / "cache");
  try {
    const CacheGcLock second(dir / "cache", 0.1);
    BOOST_FAIL("the second lock was granted");
  } catch (const flowlab::RunError& e) {
    BOOST_TEST(flowlab::testing::contains(e.what(), "stayed locked"));
  }
}

BOOST_AUTO_TEST_CASE(an_executor_pins_its_plan_keys_until_it_ends) {
  TempDir dir;
  static const flowlab::Registry registry = flowlab::testing::fake_registry();
  const flowlab::Plan plan =
      flowlab::make_plan(flowlab::compose_text("nodes:\n  a: {op: test.const, params: {value: 1}}\n"
                                               "  s: {op: test.sleep, params: {ms: 400}}\n",
                                               "spec.yaml", {}, {}),
                         registry);
  flowlab::ExecuteOptions options;
  options.cache_dir = dir / "cache";
  flowlab::testing::RecordingListener listener;
  std::atomic<bool> done{false};
  std::thread t([&] {
    flowlab::execute(plan, registry, listener, options);
    done = true;
  });
  std::vector<flowlab::PinInfo> pins;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pins.empty() && !done && std::chrono::steady_clock::now() < deadline) {
    pins = flowlab::read_pins(dir / "cache");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  t.join();
  BOOST_TEST_REQUIRE(pins.size() == 1u);
  const std::set<std::string> pinned(pins[0].keys.begin(), pins[0].keys.end());
  BOOST_TEST(pinned == (std::set<std::string>{plan.nodes[0].key, plan.nodes[1].key}));
  BOOST_TEST(flowlab::read_pins(dir / "cache").empty());
}

BOOST_AUTO_TEST_SUITE_END()
