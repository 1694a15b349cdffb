#pragma once
// Small text helpers for progress lines.
#include <string>

namespace flowlab::ops {
/// Seconds as "m:ss" or "h:mm:ss".
std::string format_duration(double seconds);
}  // namespace flowlab::ops
