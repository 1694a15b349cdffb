// Process settings for LibTorch: the malloc setting that keeps freed activations for reuse takes
// effect (a large block no longer comes from mmap) and steps aside when the user set a threshold.
#include "ops/torch_runtime.h"

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <ATen/Parallel.h>
#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/tensor_memory.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

// Sets or unsets an environment variable for one scope, then puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_torch_runtime)

// glibc's malloc thresholds exist only where glibc's allocator serves malloc: under
// AddressSanitizer (./dev.sh test --sanitize) its own allocator does, and the setting reports that
// it did nothing (tested below).
#if defined(__SANITIZE_ADDRESS__)
#define FLOWLAB_GLIBC_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOWLAB_GLIBC_MALLOC 0
#endif
#endif
#if !defined(FLOWLAB_GLIBC_MALLOC) && defined(__GLIBC__)
#define FLOWLAB_GLIBC_MALLOC 1
#elif !defined(FLOWLAB_GLIBC_MALLOC)
#define FLOWLAB_GLIBC_MALLOC 0
#endif

#if FLOWLAB_GLIBC_MALLOC
BOOST_AUTO_TEST_CASE(malloc_setting_defers_to_the_users_tuning) {
  ScopedEnv mmap("MALLOC_MMAP_THRESHOLD_", nullptr), trim("MALLOC_TRIM_THRESHOLD_", nullptr);
  {
    ScopedEnv tunables("GLIBC_TUNABLES", nullptr);
    BOOST_TEST(flowlab::ops::keep_freed_memory_for_reuse());
  }
  {
    ScopedEnv tunables("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0");
    BOOST_TEST(!flowlab::ops::keep_freed_memory_for_reuse());
  }
  {
    ScopedEnv tunables("GLIBC_TUNABLES",
                       "glibc.malloc.arena_max=2:glibc.pthread.rseq=0");  // other knobs
    BOOST_TEST(flowlab::ops::keep_freed_memory_for_reuse());
  }
  {
    ScopedEnv tunables("GLIBC_TUNABLES", nullptr);
    ScopedEnv user("MALLOC_MMAP_THRESHOLD_", "131072");
    BOOST_TEST(!flowlab::ops::keep_freed_memory_for_reuse());
  }
}

BOOST_AUTO_TEST_CASE(after_the_setting_a_large_block_comes_from_the_heap) {
  // glibc's default serves 40 MiB with mmap (above the 32 MiB cap of its adaptive threshold).
  {
    ScopedEnv tunables("GLIBC_TUNABLES", nullptr);
    ScopedEnv mmap("MALLOC_MMAP_THRESHOLD_", nullptr), trim("MALLOC_TRIM_THRESHOLD_", nullptr);
    BOOST_REQUIRE(flowlab::ops::keep_freed_memory_for_reuse());
  }
  const size_t size = 40u << 20;
  const size_t mmapped_before = mallinfo2().hblks;
  void* block = std::malloc(size);
  BOOST_REQUIRE(block);
  std::memset(block, 1, size);
  BOOST_TEST(mallinfo2().hblks == mmapped_before);  // not an mmapped block
  std::free(block);
  BOOST_TEST(mallinfo2().arena >= size);  // the freed space stays in the heap for the next batch
}
#endif

BOOST_AUTO_TEST_CASE(a_threads_count_survives_its_first_parallel_region) {
  // Node B sets 2 threads on a fresh thread; node A on another thread then sets 1. B's first
  // parallel op must still run with 2 (LibTorch re-reads the process-wide count lazily).
  std::mutex mutex;
  std::condition_variable cv;
  int stage = 0;
  int seen = 0;
  std::thread b([&] {
    flowlab::ops::set_torch_threads(2);
    {
      std::unique_lock<std::mutex> lock(mutex);
      stage = 1;
      cv.notify_all();
      cv.wait(lock, [&] { return stage == 2; });
    }
    at::parallel_for(0, 1 << 16, 1024, [](int64_t, int64_t) {});
    seen = at::get_num_threads();
  });
  std::thread a([&] {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return stage == 1; });
    flowlab::ops::set_torch_threads(1);
    stage = 2;
    cv.notify_all();
  });
  a.join();
  b.join();
  BOOST_TEST(seen == 2);
}

#if !FLOWLAB_GLIBC_MALLOC
BOOST_AUTO_TEST_CASE(malloc_setting_is_glibc_only) {
  BOOST_TEST(!flowlab::ops::keep_freed_memory_for_reuse());
}
#endif

BOOST_AUTO_TEST_CASE(the_tensor_memory_meter_sees_allocations_and_frees_in_its_scope) {
  const auto before = torch::ones({1 << 16});  // allocated before the meter: not counted
  flowlab::ops::TensorMemoryMeter meter;
  {
    const auto a = torch::empty({1 << 18}, torch::kFloat32);  // 1 MiB
    BOOST_TEST(meter.current_bytes() == (1 << 20));
    const auto b = torch::empty({1 << 17}, torch::kFloat32);  // 0.5 MiB
    BOOST_TEST(meter.current_bytes() == (3 << 19));
  }
  BOOST_TEST(meter.current_bytes() == 0);
  BOOST_TEST(meter.peak_bytes() == (3 << 19));
  // Intra-op threads report to the same meter: a parallel elementwise op allocates one output.
  const auto big = torch::ones({1 << 20});
  const auto c = big * 2;
  BOOST_TEST(meter.current_bytes() == 2 * (4 << 20));
  BOOST_TEST(before.numel() == (1 << 16));
}

BOOST_AUTO_TEST_SUITE_END()
