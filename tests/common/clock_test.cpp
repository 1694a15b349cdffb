// Tests for the clock helpers (common/clock.h).
#include "common/clock.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <thread>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(common_clock)

BOOST_AUTO_TEST_CASE(unix_now_agrees_with_time) {
  const double before = static_cast<double>(std::time(nullptr));
  const double now = flowlab::unix_now();
  const double after = static_cast<double>(std::time(nullptr));
  // time() truncates to whole seconds, and glibc reads it from the coarse clock, which may lag the
  // precise one by a scheduler tick (seen: unix_now() = t + 0.0005 while a later time() = t - 1).
  const double tick = 0.05;
  BOOST_TEST(now >= before - tick);
  BOOST_TEST(now < after + 1 + tick);
}

BOOST_AUTO_TEST_CASE(seconds_since_measures_a_sleep) {
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(flowlab::seconds_since(start) >= 0.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double s = flowlab::seconds_since(start);
  BOOST_TEST(s >= 0.02);
  BOOST_TEST(s < 5.0);  // generous: a loaded machine may stall the thread
}

BOOST_AUTO_TEST_CASE(format_duration_as_minutes_or_hours) {
  BOOST_TEST(flowlab::format_duration(0) == "0:00");
  BOOST_TEST(flowlab::format_duration(59.4) == "0:59");
  BOOST_TEST(flowlab::format_duration(59.5) == "1:00");  // rounded, not truncated
  BOOST_TEST(flowlab::format_duration(3599) == "59:59");
  BOOST_TEST(flowlab::format_duration(3600) == "1:00:00");
  BOOST_TEST(flowlab::format_duration(90061) == "25:01:01");
  BOOST_TEST(flowlab::format_duration(-1) == "?");
  BOOST_TEST(flowlab::format_duration(std::nan("")) == "?");
}

BOOST_AUTO_TEST_SUITE_END()
