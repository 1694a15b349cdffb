#include "ops/privacy/rqm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::ops::privacy {

void validate(const RqmParams& params) {
  if (!(std::isfinite(params.clip) && params.clip > 0))
    throw RunError(fmt::format("RQM needs a clip range c > 0, got {}", params.clip));
  if (!(std::isfinite(params.margin) && params.margin > 0))
    throw RunError(fmt::format(
        "RQM needs a margin Delta > 0 (the levels must extend beyond [-c, c] for privacy), got {}",
        params.margin));
  if (params.levels < 2)
    throw RunError(fmt::format("RQM needs at least 2 levels, got {}", params.levels));
  if (!(params.keep >= 0 && params.keep <= 1))
    throw RunError(fmt::format("RQM needs a keep probability q in [0, 1], got {}", params.keep));
}

double rqm_extent(const RqmParams& params) { return params.clip + params.margin; }

double rqm_level(const RqmParams& params, int index) {
  const double extent = rqm_extent(params);
  return -extent + 2.0 * index * extent / (params.levels - 1);
}

namespace {

double clip_input(const RqmParams& params, double x) {
  if (std::isnan(x)) throw RunError("RQM got a NaN input");
  return std::clamp(x, -params.clip, params.clip);
}

// x in units of the level spacing (u = j at B(j)) and the index L of the level at or below it.
// x <= c < X keeps L <= m - 2, so a level above always exists.
struct Position {
  double u;
  int below;
};

Position locate(const RqmParams& params, double clipped_x) {
  const double extent = rqm_extent(params);
  const int top = params.levels - 1;
  const double u = std::clamp((clipped_x + extent) * top / (2.0 * extent), 0.0, double(top));
  return {u, std::min(int(std::floor(u)), top - 1)};
}

}  // namespace

std::vector<double> rqm_pmf(const RqmParams& params, double x) {
  validate(params);
  const Position pos = locate(params, clip_input(params, x));
  const int m = params.levels;
  const int below = pos.below;
  const double q = params.keep;
  const double skip = 1.0 - q;

  // Bracket distribution: a is the first kept level walking down from L (level 0 always kept),
  // b the first kept walking up from L + 1 (level m - 1 always kept). They are independent.
  std::vector<double> lower_prob(below + 1), upper_prob(m);
  lower_prob[0] = std::pow(skip, below);
  for (int a = 1; a <= below; ++a) lower_prob[a] = q * std::pow(skip, below - a);
  for (int b = below + 1; b < m - 1; ++b) upper_prob[b] = q * std::pow(skip, b - below - 1);
  upper_prob[m - 1] = std::pow(skip, m - 2 - below);

  // Given (a, b), the mechanism sends b with probability (u - a) / (b - a), else a.
  std::vector<double> pmf(m, 0.0);
  for (int z = 0; z <= below; ++z) {
    if (lower_prob[z] == 0) continue;
    double stay = 0;
    for (int b = below + 1; b < m; ++b)
      if (upper_prob[b] != 0) stay += upper_prob[b] * (b - pos.u) / (b - z);
    pmf[z] = lower_prob[z] * stay;
  }
  for (int z = below + 1; z < m; ++z) {
    if (upper_prob[z] == 0) continue;
    double rise = 0;
    for (int a = 0; a <= below; ++a)
      if (lower_prob[a] != 0) rise += lower_prob[a] * (pos.u - a) / (z - a);
    pmf[z] = upper_prob[z] * rise;
  }
  return pmf;
}

double unit_uniform(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

int rqm_sample(const RqmParams& params, double x, std::mt19937_64& rng) {
  validate(params);
  const Position pos = locate(params, clip_input(params, x));
  const int m = params.levels;
  int lower = 0;
  for (int j = pos.below; j >= 1; --j)
    if (unit_uniform(rng) < params.keep) {
      lower = j;
      break;
    }
  int upper = m - 1;
  for (int j = pos.below + 1; j <= m - 2; ++j)
    if (unit_uniform(rng) < params.keep) {
      upper = j;
      break;
    }
  const double up_probability = (pos.u - lower) / (upper - lower);
  return unit_uniform(rng) < up_probability ? upper : lower;
}

double rqm_decode(const RqmParams& params, int index) {
  validate(params);
  if (index < 0 || index >= params.levels)
    throw RunError(fmt::format("RQM index {} is outside 0..{}", index, params.levels - 1));
  return rqm_level(params, index);
}

double rqm_decode_mean(const RqmParams& params, int64_t index_sum, int64_t clients) {
  validate(params);
  if (clients < 1) throw RunError(fmt::format("RQM mean over {} clients", clients));
  const int64_t top = params.levels - 1;
  if (index_sum < 0 || index_sum > clients * top)
    throw RunError(fmt::format("RQM index sum {} is outside 0..{} for {} clients", index_sum,
                               clients * top, clients));
  const double extent = rqm_extent(params);
  return -extent + 2.0 * extent * double(index_sum) / (double(clients) * double(top));
}

std::vector<double> rqm_breakpoints(const RqmParams& params) {
  validate(params);
  std::vector<double> points{-params.clip};
  for (int j = 0; j < params.levels; ++j) {
    const double level = rqm_level(params, j);
    if (level > -params.clip && level < params.clip) points.push_back(level);
  }
  points.push_back(params.clip);
  return points;
}

}  // namespace flowlab::ops::privacy
