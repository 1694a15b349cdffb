#pragma once
// Number helpers that the tick code (ticks.cpp) and the SVG writer (svg.cpp) share. Internal to
// plot/; plot.h is the public API.
#include <string>

namespace flowlab::plot::internal {

// Slack for "is this multiple of the step inside [lo, hi]" so that 0.3 / 0.1 = 2.9999999999999996
// still counts as 3.
inline constexpr double kEps = 1e-9;

// 10^e as the double nearest to the decimal: exact for |e| <= 22, and dividing by an exact power
// rounds correctly, so ticks built as k / 10^e print as the short decimals they are.
double pow10(int e);

// k * mantissa * 10^e with one rounding, so ticks are clean decimals (0.3, not
// 0.30000000000000004).
double scaled(double k_times_mantissa, int e);

// Shortest text that reads back as v, at most 6 significant digits.
std::string short_number(double v);

}  // namespace flowlab::plot::internal
