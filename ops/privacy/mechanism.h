#pragma once
// A privacy mechanism applied to a vector, one coordinate at a time: what a client sends (a
// message per coordinate), how the server turns the sum of the messages of `clients` clients
// into their mean, and what a run spends. One choice of the registered param group
// "mechanism" (`mechanism: rqm | pbm | gaussian | none`), used alike by privacy.mean_estimation,
// privacy.accountant and fl.federated, so the mechanism lives in one place. Torch-free.
//
// Messages are doubles so that every mechanism fits one buffer: RQM's level index, PBM's count of
// successes (both small integers, exact in a double, so sums over clients are exact in any
// order), the Gaussian's noisy value, or the raw value for `none`.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "graph/op.h"
#include "ops/privacy/accountant.h"
#include "ops/privacy/pbm.h"
#include "ops/privacy/rqm.h"

namespace flowlab::ops::privacy {

struct MechanismSpec {
  std::string name = "rqm";  // rqm | pbm | gaussian | none
  double clip = 1.0;         // c: every coordinate is clipped to [-c, c] (not by `none`)
  RqmParams rqm;             // levels, keep, margin (rqm)
  PbmParams pbm;             // trials, theta (pbm)
  double sigma = 1.0;        // the Gaussian's standard deviation (gaussian)
};

/// The param group "mechanism" and its four choices with their params (levels, keep, margin;
/// trials, theta; sigma).
void register_mechanisms(Registry& registry);

/// The op-level params every op that takes a mechanism declares: `mechanism` (the group
/// selector), `clip`, `target_epsilon` (0: use the mechanism's own params; > 0: calibrate
/// margin / theta / sigma so that the run spends exactly that) and `delta`.
std::vector<ParamSpec> mechanism_params(const std::string& default_mechanism = "rqm",
                                        double default_clip = 1.0);

/// The mechanism a node's params describe, before calibration.
MechanismSpec read_mechanism(const Params& params);

/// The mechanism with margin (rqm), theta (pbm) or sigma (gaussian) chosen so that `run` spends
/// target_epsilon (see accountant.h: the result errs on the private side). `none` cannot be
/// calibrated: a RunError.
MechanismSpec calibrate(MechanismSpec mechanism, double target_epsilon, const LocalAccounting& run);

/// The mechanism's Renyi-DP curve for one use on one coordinate (exact; accountant.h). A
/// RunError for `none`.
RdpCurve rdp_per_coordinate(const MechanismSpec& mechanism,
                            const std::vector<double>& orders = default_orders());

/// (epsilon, delta) of `uses` uses of a mechanism whose per-use curve is `per_use`.
DpGuarantee epsilon_after(const RdpCurve& per_use, double uses, const LocalAccounting& run);

/// The run's (epsilon, delta), local per client; epsilon is +infinity for `none`.
DpGuarantee epsilon_of(const MechanismSpec& mechanism, const LocalAccounting& run);

/// Bits a client sends per coordinate: ceil(log2 m) for RQM, ceil(log2(trials + 1)) for PBM,
/// 32 (a float) for the Gaussian and `none`.
int bits_per_coordinate(const MechanismSpec& mechanism);

/// Throws RunError naming the first invalid field of the chosen mechanism.
void validate(const MechanismSpec& mechanism);

/// Encodes x[0..n) into messages out[0..n), drawing from `rng` in coordinate order.
void encode(const MechanismSpec& mechanism, const float* x, int64_t n, std::mt19937_64& rng,
            double* out);

/// The mean over `clients` clients of their decoded coordinates, from the per-coordinate sums
/// of their messages: out[i] = decode_mean(message_sum[i]).
void decode_mean(const MechanismSpec& mechanism, const double* message_sum, int64_t n,
                 int64_t clients, double* out);

/// The exact variance of one client's decoded coordinate for input x (the mechanism is
/// unbiased for clipped inputs, so this is its mean squared error): sum_z P_x(z) (B(z) - x)^2
/// for RQM and PBM from their pmfs, sigma^2 for the Gaussian, 0 for `none`.
double decode_variance(const MechanismSpec& mechanism, double x);

/// A standard normal draw from two unit_uniform draws (Box-Muller), the same on every standard
/// library.
double standard_normal(std::mt19937_64& rng);

}  // namespace flowlab::ops::privacy
