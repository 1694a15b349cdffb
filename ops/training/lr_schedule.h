#pragma once
// Learning-rate schedules as a factor of each param group's base rate, a pure function of the
// step so that a resumed run continues on the same curve. `cosine` is the S4/S4D reference
// recipe (cosine annealing to zero over the run, after an optional linear warmup).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace flowlab::ops::training {

/// The factor for step `step` (1-based) of `total`: 1 for "constant"; for "cosine", a linear
/// ramp step / warmup over the first `warmup` steps, then 0.5 (1 + cos(pi t)) with t going from 0
/// at the step after the warmup to 1 past the last step, so no step runs at rate zero.
inline double lr_factor(const std::string& schedule, int64_t step, int64_t total, int64_t warmup) {
  if (step <= warmup) return static_cast<double>(step) / static_cast<double>(warmup);
  if (schedule != "cosine") return 1.0;
  const double t = static_cast<double>(step - warmup - 1) /
                   static_cast<double>(std::max<int64_t>(total - warmup, 1));
  return 0.5 * (1.0 + std::cos(M_PI * t));
}

}  // namespace flowlab::ops::training
