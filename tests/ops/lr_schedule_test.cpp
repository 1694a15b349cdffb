// The learning-rate schedule's factor against its closed form.
#include "ops/training/lr_schedule.h"

#include <cmath>

#include <boost/test/unit_test.hpp>

namespace training = flowlab::ops::training;

BOOST_AUTO_TEST_SUITE(ops_lr_schedule)

BOOST_AUTO_TEST_CASE(constant_is_one_after_a_linear_warmup) {
  BOOST_TEST(training::lr_factor("constant", 1, 100, 0) == 1.0);
  BOOST_TEST(training::lr_factor("constant", 100, 100, 0) == 1.0);
  BOOST_TEST(training::lr_factor("constant", 1, 100, 4) == 0.25);
  BOOST_TEST(training::lr_factor("constant", 3, 100, 4) == 0.75);
  BOOST_TEST(training::lr_factor("constant", 5, 100, 4) == 1.0);
}

BOOST_AUTO_TEST_CASE(cosine_falls_from_one_to_near_zero_along_half_a_cosine) {
  const int64_t total = 1000, warmup = 100;
  BOOST_TEST(training::lr_factor("cosine", warmup, total, warmup) == 1.0);
  BOOST_TEST(training::lr_factor("cosine", warmup + 1, total, warmup) == 1.0);
  // Halfway through the post-warmup steps the factor is 1/2; at the last step it is
  // 0.5 (1 + cos(pi (n - 1) / n)) with n = 900 steps, small but not zero.
  BOOST_TEST(training::lr_factor("cosine", warmup + 451, total, warmup) == 0.5,
             boost::test_tools::tolerance(1e-12));
  const double last = training::lr_factor("cosine", total, total, warmup);
  BOOST_TEST(last == 0.5 * (1 + std::cos(M_PI * 899.0 / 900.0)),
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(last > 0.0);
  BOOST_TEST(last < 1e-5);
  double previous = 2.0;
  for (int64_t step = warmup + 1; step <= total; ++step) {
    const double f = training::lr_factor("cosine", step, total, warmup);
    BOOST_TEST_REQUIRE(f < previous);
    previous = f;
  }
}

BOOST_AUTO_TEST_SUITE_END()
