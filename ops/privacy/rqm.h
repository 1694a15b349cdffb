#pragma once
// The randomized quantization mechanism (RQM) for one scalar coordinate: the exact output pmf,
// a sampler and the decoders. Torch-free; the ops encode tensors with these.
//
// Per coordinate x (clipped to [-c, c]), with X = c + Delta (RqmParams::margin):
//   levels     B(j) = -X + 2jX/(m-1), j = 0..m-1 (they reach Delta beyond the clip range);
//   sub-sample keep B(0) and B(m-1) always, each interior level independently with prob. q;
//   rounding   with B(a) <= x < B(b) the nearest kept levels, send b with probability
//              (x - B(a)) / (B(b) - B(a)), else a.
// Unbiased for every kept set, so E[B(z)] = x. The server only needs the sum of the indices.
// Source: research notes §7.1 (a third-party re-implementation of the paper's Algorithm 2).
#include <cstdint>
#include <random>
#include <vector>

namespace flowlab::ops::privacy {

// The notes' Delta is named margin here, so that delta keeps its (epsilon, delta) meaning.
struct RqmParams {
  double clip = 1.0;    // c > 0: inputs are clipped to [-c, c]
  double margin = 1.0;  // Delta > 0: how far the levels extend beyond [-c, c] (privacy needs > 0)
  int levels = 16;      // m >= 2; the client sends ceil(log2 m) bits per coordinate
  double keep = 0.5;    // q in [0, 1]: probability that an interior level is kept
};

/// Throws RunError naming the first invalid field (clip <= 0, margin <= 0, levels < 2, keep
/// outside [0, 1], or a value that is not finite).
void validate(const RqmParams& params);

/// X = c + Delta, the extent of the levels.
double rqm_extent(const RqmParams& params);

/// B(j) = -X + 2jX/(m-1).
double rqm_level(const RqmParams& params, int index);

/// The exact pmf of the index z in 0..m-1 for input x (clipped to [-c, c] first).
/// The nearest kept level below and the nearest above are independent (they depend on disjoint
/// sets of levels), so P(z) is a double sum over them: O(m^2), no enumeration of kept sets.
std::vector<double> rqm_pmf(const RqmParams& params, double x);

/// One index drawn from the mechanism for input x (clipped to [-c, c] first). Only the kept
/// levels that decide the bracket are drawn (walking outwards from x until a level is kept),
/// which has the same distribution as drawing the whole kept set.
int rqm_sample(const RqmParams& params, double x, std::mt19937_64& rng);

/// B(z): the server's unbiased estimate of one client's coordinate.
double rqm_decode(const RqmParams& params, int index);

/// The mean of B(z_i) over `clients` clients from the sum of their indices alone:
/// -X + 2X * index_sum / (clients (m - 1)), which is what secure aggregation provides.
double rqm_decode_mean(const RqmParams& params, int64_t index_sum, int64_t clients);

/// The inputs at which the pmf can change slope: -c, c and every level strictly inside (-c, c).
/// P_x is linear in x between consecutive ones (see accountant.h, which uses this to make the
/// worst-pair search exact).
std::vector<double> rqm_breakpoints(const RqmParams& params);

/// A uniform double in [0, 1) from the top 53 bits of one draw: the same sequence on every
/// standard library (std::uniform_real_distribution is not specified bit for bit).
double unit_uniform(std::mt19937_64& rng);

}  // namespace flowlab::ops::privacy
