#pragma once
// The two clocks flowlab reads: wall-clock unix seconds for what is recorded (run and node start
// and end times, heartbeats), the monotonic clock for durations (the wall clock can jump).
#include <chrono>
#include <string>

namespace flowlab {

/// Now as unix seconds (fractional): the time base of every time in the results database.
inline double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Seconds elapsed since `start` on the monotonic clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// A duration as "m:ss" or "h:mm:ss" (rounded to whole seconds; "?" when negative or not finite),
/// for progress lines and ETAs.
std::string format_duration(double seconds);

}  // namespace flowlab
