#pragma once
// Rényi-DP accounting for per-coordinate mechanisms (RQM, PBM, clipped Gaussian): Rényi
// divergences of exact output pmfs, the worst pair of inputs, composition and conversion to
// (epsilon, delta). Torch-free.
//
// All accounting here is LOCAL (per client): two neighbouring inputs are any two update vectors
// in [-c, c]^d of one client, and the adversary sees that client's messages. This is a valid but
// conservative bound compared with a secure-aggregation analysis, where only the sum over
// clients is released and privacy improves with the number of clients (as the PBM paper's
// analysis does); client sub-sampling is not credited either.
//
// Composition: each of the d coordinates goes through its own independent mechanism in each of
// the R rounds, so the RDP of a run is d * R times the per-coordinate RDP at every order.
#include <cstdint>
#include <functional>
#include <vector>

#include "ops/privacy/pbm.h"
#include "ops/privacy/rqm.h"

namespace flowlab::ops::privacy {

/// Rényi orders used when none are given: 1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, every
/// integer 5..64, then 80, 96, 128, 192, 256 (a TensorFlow Privacy style list).
const std::vector<double>& default_orders();

/// D_alpha(P || Q) = log(sum_z P(z)^alpha Q(z)^(1 - alpha)) / (alpha - 1) for alpha > 1, and
/// alpha = +infinity gives max_{P(z) > 0} log(P(z) / Q(z)) (pure DP). +infinity when Q(z) = 0
/// for some z with P(z) > 0. P and Q are pmfs of the same length (sums within 1e-9 of 1).
/// Computed in log space; near P = Q as log1p(sum_z P(z) expm1((alpha - 1) log(P(z)/Q(z))))
/// so that tiny per-coordinate divergences keep their relative precision when multiplied by
/// d * R.
double renyi_divergence(const std::vector<double>& p, const std::vector<double>& q, double order);

/// A mechanism for one coordinate: its output pmf for input x.
using Mechanism = std::function<std::vector<double>(double x)>;

struct WorstPair {
  double x = 0;
  double x_prime = 0;
  double divergence = 0;  // D_alpha(P_x || P_x')
};

/// grid_points >= 2 inputs evenly spaced over [-c, c], with -c and c exactly, plus `extra`
/// (clipped to [-c, c]); sorted, without duplicates.
std::vector<double> scan_inputs(double clip, int grid_points,
                                const std::vector<double>& extra = {});

/// The worst ordered pair over `inputs` at each order: max over (x, x') of D_alpha(P_x || P_x').
/// Each pmf is computed once.
std::vector<WorstPair> worst_pairs(const Mechanism& mechanism, const std::vector<double>& inputs,
                                   const std::vector<double>& orders);

/// A grid scan of `grid_points` inputs over [-c, c]. The grid always contains the endpoints
/// -c and c, so they are always checked. They are the natural candidates but not always the
/// worst pair (RQM with m = 16, q = 0.1, Delta = c: a level inside beats them at high orders),
/// and a grid only bounds the supremum from below in general; rqm_rdp below is exact instead.
WorstPair worst_pair(const Mechanism& mechanism, double clip, double order, int grid_points = 101);

/// An RDP curve: epsilons[i] bounds D_{orders[i]} over all pairs of neighbouring inputs.
struct RdpCurve {
  std::vector<double> orders;
  std::vector<double> epsilons;
};

/// The curve of the worst pairs over `inputs`.
RdpCurve mechanism_rdp(const Mechanism& mechanism, const std::vector<double>& inputs,
                       const std::vector<double>& orders = default_orders());

/// RQM's per-coordinate RDP, exact (no grid): P_x is linear in x between consecutive points of
/// rqm_breakpoints (the bracket distribution only changes at levels; the rounding probability is
/// linear in x), and sum_z P(z)^alpha Q(z)^(1 - alpha) is convex in P for fixed Q and convex in
/// Q for fixed P when alpha > 1. So the supremum over [-c, c]^2 is attained on breakpoint
/// pairs, at most (m + 2)^2 of them. Cost O(m^3 |orders|) at worst (all levels inside
/// [-c, c]); fewer orders make large m cheaper.
RdpCurve rqm_rdp(const RqmParams& params, const std::vector<double>& orders = default_orders());

/// PBM's per-coordinate RDP in closed form: m D_alpha(Bern(1/2 + theta) || Bern(1/2 - theta)).
/// Binomial(m, p) is a sufficient statistic of m Bernoulli(p) draws, so its divergence is m times
/// the Bernoulli one; p^alpha p'^(1 - alpha) + (1 - p)^alpha (1 - p')^(1 - alpha) is jointly
/// convex in (p, p'), so the worst pair is a corner: x = c, x' = -c (or the reverse, equal by
/// symmetry).
RdpCurve pbm_rdp(const PbmParams& params, const std::vector<double>& orders = default_orders());

/// The clipped Gaussian baseline x + N(0, sigma^2) per coordinate: alpha (2c)^2 / (2 sigma^2)
/// (replace-one sensitivity 2c; Mironov 2017, "Renyi Differential Privacy").
RdpCurve gaussian_rdp(double clip, double sigma,
                      const std::vector<double>& orders = default_orders());

/// `uses` adaptive uses of a mechanism: RDP adds at every order.
RdpCurve compose(const RdpCurve& per_use, double uses);
/// Mechanisms run one after another (same orders): their RDP adds.
RdpCurve compose(const std::vector<RdpCurve>& curves);

enum class RdpConversion {
  // epsilon = min_alpha eps_alpha + log(1/delta) / (alpha - 1) (Mironov 2017, Prop. 3).
  standard,
  // epsilon = min_alpha eps_alpha + log(1 - 1/alpha) - (log delta + log alpha) / (alpha - 1),
  // clamped at 0 (Canonne, Kamath and Steinke 2020, "The Discrete Gaussian for Differential
  // Privacy", Prop. 12; the same bound is Balle et al. 2020, "Hypothesis Testing Interpretations
  // and Renyi Differential Privacy", Thm. 21; used by TensorFlow Privacy's compute_eps).
  // Never larger than standard: the two extra terms are negative for alpha > 1.
  improved,
};

struct DpGuarantee {
  double epsilon = 0;
  double delta = 0;
  double order = 0;  // the order that attains the minimum
};

/// (epsilon, delta) from an RDP curve, minimised over its orders; delta in (0, 1).
/// Infinite when every order is.
DpGuarantee rdp_to_dp(const RdpCurve& curve, double delta,
                      RdpConversion conversion = RdpConversion::improved);

/// What a run composes: d coordinates per round, R rounds, the target delta.
struct LocalAccounting {
  int64_t coordinates = 1;
  int64_t rounds = 1;
  double delta = 1e-5;
  RdpConversion conversion = RdpConversion::improved;
  std::vector<double> orders = default_orders();
};

/// A run's (epsilon, delta), local per client (see the top of this file).
DpGuarantee rqm_epsilon(const RqmParams& params, const LocalAccounting& run);
DpGuarantee pbm_epsilon(const PbmParams& params, const LocalAccounting& run);
DpGuarantee gaussian_epsilon(double clip, double sigma, const LocalAccounting& run);

/// The parameter that spends exactly `target_epsilon` (as bisections; epsilon falls as sigma or
/// Delta grows and as theta shrinks). The result r satisfies
/// target - tolerance <= epsilon(r) <= target: the answer errs on the private side. Throws
/// RunError when the target is below what any parameter reaches with these orders and delta.
double gaussian_sigma_for_epsilon(double clip, double target_epsilon, const LocalAccounting& run,
                                  double tolerance = 1e-6);
/// Searches RqmParams::margin; the other fields of `params` are kept.
double rqm_margin_for_epsilon(const RqmParams& params, double target_epsilon,
                              const LocalAccounting& run, double tolerance = 1e-6);
/// Searches PbmParams::theta in (0, 1/2]; returns 1/2 when even that spends at most the target.
double pbm_theta_for_epsilon(const PbmParams& params, double target_epsilon,
                             const LocalAccounting& run, double tolerance = 1e-6);

}  // namespace flowlab::ops::privacy
