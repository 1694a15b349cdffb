// Process settings for LibTorch: the malloc setting that keeps freed activations for reuse steps
// aside when the user tuned malloc through the environment.
#include "ops/torch_runtime.h"

#include <cstdlib>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(ops_torch_runtime)

BOOST_AUTO_TEST_CASE(malloc_setting_defers_to_the_users_tuning) {
#if defined(__GLIBC__)
  unsetenv("MALLOC_MMAP_THRESHOLD_");
  unsetenv("MALLOC_TRIM_THRESHOLD_");
  unsetenv("GLIBC_TUNABLES");
  BOOST_TEST(flowlab::ops::keep_freed_memory_for_reuse());
  setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0", 1);
  BOOST_TEST(!flowlab::ops::keep_freed_memory_for_reuse());
  setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);  // not about malloc: applied
  BOOST_TEST(flowlab::ops::keep_freed_memory_for_reuse());
  unsetenv("GLIBC_TUNABLES");
  setenv("MALLOC_MMAP_THRESHOLD_", "131072", 1);
  BOOST_TEST(!flowlab::ops::keep_freed_memory_for_reuse());
  unsetenv("MALLOC_MMAP_THRESHOLD_");
#else
  BOOST_TEST(!flowlab::ops::keep_freed_memory_for_reuse());
#endif
}

BOOST_AUTO_TEST_SUITE_END()
