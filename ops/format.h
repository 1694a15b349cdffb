#pragma once
// Small helpers for progress lines and timings.
#include <chrono>
#include <string>

namespace flowlab::ops {
/// Wall seconds since `start` (a steady clock: unaffected by clock changes).
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Seconds as "m:ss" or "h:mm:ss".
std::string format_duration(double seconds);
}  // namespace flowlab::ops
