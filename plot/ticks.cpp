// Axis ticks: 1-2-5 steps, log decades and their labels (the first section of plot.h).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/text.h"
#include "plot/plot.h"
#include "plot/tick_math.h"

namespace flowlab::plot {
namespace internal {

double pow10(int e) {
  double p = 1;
  for (int i = 0; i < std::abs(e); ++i) p *= 10;
  return e >= 0 ? p : 1 / p;
}

double scaled(double k_times_mantissa, int e) {
  return e >= 0 ? k_times_mantissa * pow10(e) : k_times_mantissa / pow10(-e);
}

}  // namespace internal

namespace {

using internal::kEps;
using internal::pow10;
using internal::scaled;
using internal::short_number;

// Finds the 1-2-5 step as (mantissa, exponent) pair; nice_step and nice_ticks share it.
std::pair<int, int> nice_step_parts(double lo, double hi, int max_ticks) {
  const double span = hi - lo;
  // Start one decade below the step that would give max_ticks intervals: surely too small.
  int e = static_cast<int>(std::floor(std::log10(span / max_ticks))) - 1;
  for (;; ++e) {
    for (int m : {1, 2, 5}) {
      const double step = scaled(m, e);
      const double count = std::floor(hi / step + kEps) - std::ceil(lo / step - kEps) + 1;
      if (count <= max_ticks) return {m, e};
    }
  }
}

const char* const kSuperscripts[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};

std::string superscript(int n) {
  std::string digits = std::to_string(std::abs(n)), out = n < 0 ? "⁻" : "";
  for (char c : digits) out += kSuperscripts[c - '0'];
  return out;
}

// A typographic minus: "−0.5" reads better than "-0.5" and has the width of a digit.
std::string with_minus(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "−");
  return s;
}

}  // namespace

// Goes through the decimal text: inf and nan have none and print as themselves.
std::string internal::short_number(double v) {
  return with_minus(fmt::format("{}", parse_double(fmt::format("{:.6g}", v)).value_or(v)));
}

// ---------------------------------------------------------------------------------------------
// Ticks

double nice_step(double lo, double hi, int max_ticks) {
  auto [m, e] = nice_step_parts(lo, hi, max_ticks);
  return scaled(m, e);
}

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  auto [m, e] = nice_step_parts(lo, hi, max_ticks);
  const double step = scaled(m, e);
  std::vector<double> ticks;
  const auto first = static_cast<long long>(std::ceil(lo / step - kEps));
  const auto last = static_cast<long long>(std::floor(hi / step + kEps));
  for (long long k = first; k <= last; ++k)
    ticks.push_back(k == 0 ? 0.0 : scaled(static_cast<double>(k * m), e));
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi, int max_ticks) {
  const int k_lo = static_cast<int>(std::ceil(std::log10(lo) - kEps));
  const int k_hi = static_cast<int>(std::floor(std::log10(hi) + kEps));
  const int decades = k_hi - k_lo + 1;
  std::vector<double> ticks;
  if (decades >= 3) {
    // Every m-th decade, on exponents divisible by m so that 10^0 stays a tick when it is in range.
    const int m = (decades + max_ticks - 1) / max_ticks;
    int k = k_lo;
    while (((k % m) + m) % m != 0) ++k;
    for (; k <= k_hi; k += m) ticks.push_back(pow10(k));
    return ticks;
  }
  // Under three decades: 1-2-5 multiples, thinned if they are too many.
  for (const std::vector<int>& mantissas : std::vector<std::vector<int>>{{1, 2, 5}, {1, 5}, {1}}) {
    ticks.clear();
    for (int k = k_lo - 1; k <= k_hi; ++k)
      for (int m : mantissas) {
        const double t = scaled(m, k);
        if (t >= lo * (1 - kEps) && t <= hi * (1 + kEps)) ticks.push_back(t);
      }
    if (static_cast<int>(ticks.size()) <= max_ticks) break;
  }
  if (ticks.size() < 2) return nice_ticks(lo, hi, max_ticks);
  return ticks;
}

std::vector<std::string> linear_tick_labels(const std::vector<double>& ticks) {
  if (ticks.empty()) return {};
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : std::max(std::fabs(ticks[0]), 1.0);
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::fabs(t));
  double divisor = 1;
  const char* suffix = "";
  if (largest >= 1e10)
    divisor = 1e9, suffix = "G";
  else if (largest >= 1e7)
    divisor = 1e6, suffix = "M";
  else if (largest >= 1e4)
    divisor = 1e3, suffix = "k";
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step / divisor) - kEps)));
  std::vector<std::string> labels;
  for (double t : ticks) {
    if (std::fabs(t) < step * kEps) t = 0;  // no "-0.0"
    labels.push_back(decimals > 5 ? with_minus(fmt::format("{:g}", t))
                                  : with_minus(fmt::format("{:.{}f}", t / divisor, decimals)) +
                                        (t == 0 ? "" : suffix));
  }
  return labels;
}

std::vector<std::string> log_tick_labels(const std::vector<double>& ticks) {
  const bool plain = std::all_of(ticks.begin(), ticks.end(),
                                 [](double t) { return t >= 1e-3 * (1 - kEps) && t <= 1e9; });
  std::vector<std::string> labels;
  for (double t : ticks) {
    if (plain) {
      if (t >= 1e6)
        labels.push_back(short_number(t / 1e6) + "M");
      else if (t >= 1e4)
        labels.push_back(short_number(t / 1e3) + "k");
      else
        labels.push_back(short_number(t));
      continue;
    }
    const int e = static_cast<int>(std::floor(std::log10(t) + kEps));
    const double mantissa = t / pow10(e);
    const std::string power = "10" + superscript(e);
    labels.push_back(std::fabs(mantissa - 1) < 1e-6 ? power : short_number(mantissa) + "×" + power);
  }
  return labels;
}

}  // namespace flowlab::plot
