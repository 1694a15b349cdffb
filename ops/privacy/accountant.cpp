#include "ops/privacy/accountant.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

namespace flowlab::ops::privacy {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

void check_order(double order) {
  if (!(order > 1)) throw RunError(fmt::format("Renyi order must be > 1, got {}", order));
}

void check_pmf(const std::vector<double>& pmf, const char* name) {
  if (pmf.empty()) throw RunError(fmt::format("{} is an empty pmf", name));
  double total = 0;
  for (double p : pmf) {
    if (!(p >= 0 && std::isfinite(p)))
      throw RunError(fmt::format("{} has a probability {} outside [0, 1]", name, p));
    total += p;
  }
  if (std::abs(total - 1) > 1e-9) throw RunError(fmt::format("{} sums to {}, not 1", name, total));
}

// log(P(z)/Q(z)) where P(z) > 0 (+inf where Q(z) = 0), computed once per pair and reused for
// every order.
std::vector<double> log_ratios(const std::vector<double>& p, const std::vector<double>& q) {
  std::vector<double> ratios(p.size(), 0.0);
  for (size_t z = 0; z < p.size(); ++z)
    if (p[z] > 0) {
      if (q[z] == 0) {
        ratios[z] = kInfinity;
      } else {
        // log1p of the relative difference keeps the digits of ratios near 1.
        const double ratio = p[z] / q[z];
        ratios[z] = ratio > 0.5 && ratio < 2 ? std::log1p((p[z] - q[z]) / q[z])
                                             : std::log(p[z]) - std::log(q[z]);
      }
    }
  return ratios;
}

double divergence_from_ratios(const std::vector<double>& p, const std::vector<double>& ratios,
                              double order) {
  if (std::isinf(order)) {
    double worst = 0;
    for (size_t z = 0; z < p.size(); ++z)
      if (p[z] > 0) worst = std::max(worst, ratios[z]);
    return worst;
  }
  const double power = order - 1;
  double largest = -kInfinity;
  for (size_t z = 0; z < p.size(); ++z)
    if (p[z] > 0) largest = std::max(largest, power * ratios[z]);
  if (largest == kInfinity) return kInfinity;
  // sum_z P (P/Q)^(alpha-1) = 1 + sum_z P expm1(...): exact cancellation of the 1 keeps the
  // relative precision of small divergences. Jensen makes the sum >= 0.
  if (largest <= 1) {
    double excess = 0;
    for (size_t z = 0; z < p.size(); ++z)
      if (p[z] > 0) excess += p[z] * std::expm1(power * ratios[z]);
    return std::max(0.0, std::log1p(excess) / power);
  }
  double shift = -kInfinity;
  for (size_t z = 0; z < p.size(); ++z)
    if (p[z] > 0) shift = std::max(shift, std::log(p[z]) + power * ratios[z]);
  double total = 0;
  for (size_t z = 0; z < p.size(); ++z)
    if (p[z] > 0) total += std::exp(std::log(p[z]) + power * ratios[z] - shift);
  return std::max(0.0, (shift + std::log(total)) / power);
}

void check_run(const LocalAccounting& run) {
  if (run.coordinates < 1 || run.rounds < 1)
    throw RunError(fmt::format("accounting needs >= 1 coordinate and round, got {} and {}",
                               run.coordinates, run.rounds));
}

DpGuarantee run_epsilon(const RdpCurve& per_coordinate, const LocalAccounting& run) {
  check_run(run);
  const double uses = double(run.coordinates) * double(run.rounds);
  return rdp_to_dp(compose(per_coordinate, uses), run.delta, run.conversion);
}

// The smallest s >= lower_limit (within the tolerance on epsilon) with epsilon_of(s) <= target,
// for epsilon falling as s grows: double from `start` until feasible, halve until not, then
// bisect geometrically. `hi` is always feasible, so the answer errs on the private side.
double solve_falling(const std::function<double(double)>& epsilon_of, double target,
                     const LocalAccounting& run, double start, double lower_limit, double tolerance,
                     const char* what) {
  if (!(target > 0)) throw RunError(fmt::format("target epsilon must be > 0, got {}", target));
  if (!(tolerance > 0)) throw RunError(fmt::format("tolerance must be > 0, got {}", tolerance));
  check_run(run);
  // Even zero RDP converts to this epsilon: no parameter can reach a target at or below it.
  const double floor = rdp_to_dp({run.orders, std::vector<double>(run.orders.size(), 0.0)},
                                 run.delta, run.conversion)
                           .epsilon;
  if (target <= floor)
    throw RunError(fmt::format(
        "no {} reaches epsilon = {}: at delta = {} and orders up to {} the conversion alone "
        "spends {}; allow larger orders or a larger delta",
        what, target, run.delta, *std::max_element(run.orders.begin(), run.orders.end()), floor));
  double hi = start, hi_epsilon = epsilon_of(hi);
  for (int doublings = 0; hi_epsilon > target; ++doublings) {
    if (doublings == 200)
      throw RunError(fmt::format("no {} reaches epsilon = {}: {} still spends {}", what, target, hi,
                                 hi_epsilon));
    hi *= 2;
    hi_epsilon = epsilon_of(hi);
  }
  double lo = hi;
  for (int halvings = 0;; ++halvings) {
    const double next = std::max(lo / 2, lower_limit);
    if (next >= lo || halvings == 1000) return hi;  // feasible down to the limit
    const double next_epsilon = epsilon_of(next);
    if (next_epsilon > target) {
      lo = next;
      break;
    }
    lo = hi = next;
    hi_epsilon = next_epsilon;
  }
  while (target - hi_epsilon > tolerance && hi / lo - 1 > 1e-15) {
    const double mid = std::sqrt(lo * hi);
    const double mid_epsilon = epsilon_of(mid);
    if (mid_epsilon > target) {
      lo = mid;
    } else {
      hi = mid;
      hi_epsilon = mid_epsilon;
    }
  }
  return hi;
}

}  // namespace

const std::vector<double>& default_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> list{1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5};
    for (int order = 5; order <= 64; ++order) list.push_back(order);
    for (double order : {80, 96, 128, 192, 256}) list.push_back(order);
    return list;
  }();
  return orders;
}

double renyi_divergence(const std::vector<double>& p, const std::vector<double>& q, double order) {
  check_order(order);
  check_pmf(p, "P");
  check_pmf(q, "Q");
  if (p.size() != q.size())
    throw RunError(
        fmt::format("Renyi divergence of pmfs of different sizes ({} and {})", p.size(), q.size()));
  return divergence_from_ratios(p, log_ratios(p, q), order);
}

std::vector<double> scan_inputs(double clip, int grid_points, const std::vector<double>& extra) {
  if (!(std::isfinite(clip) && clip > 0))
    throw RunError(fmt::format("a scan needs a clip range c > 0, got {}", clip));
  if (grid_points < 2)
    throw RunError(
        fmt::format("a scan needs >= 2 grid points (the endpoints), got {}", grid_points));
  std::vector<double> inputs;
  for (int i = 0; i < grid_points; ++i)
    inputs.push_back(-clip + 2.0 * clip * i / (grid_points - 1));
  inputs.back() = clip;
  for (double x : extra) {
    if (std::isnan(x)) throw RunError("a scan got a NaN extra input");
    inputs.push_back(std::clamp(x, -clip, clip));
  }
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  return inputs;
}

std::vector<WorstPair> worst_pairs(const Mechanism& mechanism, const std::vector<double>& inputs,
                                   const std::vector<double>& orders) {
  if (inputs.empty()) throw RunError("a worst-pair search needs at least one input");
  if (orders.empty()) throw RunError("a worst-pair search needs at least one order");
  for (double order : orders) check_order(order);
  std::vector<std::vector<double>> pmfs;
  for (double x : inputs) {
    pmfs.push_back(mechanism(x));
    check_pmf(pmfs.back(), fmt::format("the pmf at x = {}", x).c_str());
    if (pmfs.back().size() != pmfs.front().size())
      throw RunError(fmt::format("the mechanism's pmf has {} outcomes at x = {} but {} at x = {}",
                                 pmfs.back().size(), x, pmfs.front().size(), inputs.front()));
  }
  std::vector<WorstPair> worst(orders.size(), WorstPair{inputs[0], inputs[0], 0.0});
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t j = 0; j < inputs.size(); ++j) {
      if (i == j) continue;
      const std::vector<double> ratios = log_ratios(pmfs[i], pmfs[j]);
      for (size_t k = 0; k < orders.size(); ++k) {
        const double divergence = divergence_from_ratios(pmfs[i], ratios, orders[k]);
        if (divergence > worst[k].divergence) worst[k] = {inputs[i], inputs[j], divergence};
      }
    }
  return worst;
}

WorstPair worst_pair(const Mechanism& mechanism, double clip, double order, int grid_points) {
  return worst_pairs(mechanism, scan_inputs(clip, grid_points), {order}).front();
}

RdpCurve mechanism_rdp(const Mechanism& mechanism, const std::vector<double>& inputs,
                       const std::vector<double>& orders) {
  RdpCurve curve{orders, {}};
  for (const WorstPair& pair : worst_pairs(mechanism, inputs, orders))
    curve.epsilons.push_back(pair.divergence);
  return curve;
}

RdpCurve rqm_rdp(const RqmParams& params, const std::vector<double>& orders) {
  validate(params);
  return mechanism_rdp([&params](double x) { return rqm_pmf(params, x); }, rqm_breakpoints(params),
                       orders);
}

RdpCurve pbm_rdp(const PbmParams& params, const std::vector<double>& orders) {
  validate(params);
  const double high = 0.5 + params.theta, low = 0.5 - params.theta;
  RdpCurve curve{orders, {}};
  for (double order : orders)
    curve.epsilons.push_back(params.trials *
                             renyi_divergence({1 - high, high}, {1 - low, low}, order));
  return curve;
}

RdpCurve gaussian_rdp(double clip, double sigma, const std::vector<double>& orders) {
  if (!(std::isfinite(clip) && clip > 0))
    throw RunError(fmt::format("the Gaussian mechanism needs a clip range c > 0, got {}", clip));
  if (!(std::isfinite(sigma) && sigma > 0))
    throw RunError(fmt::format("the Gaussian mechanism needs sigma > 0, got {}", sigma));
  RdpCurve curve{orders, {}};
  const double sensitivity = 2 * clip;
  for (double order : orders) {
    check_order(order);
    curve.epsilons.push_back(order * sensitivity * sensitivity / (2 * sigma * sigma));
  }
  return curve;
}

RdpCurve compose(const RdpCurve& per_use, double uses) {
  if (!(uses >= 0 && std::isfinite(uses)))
    throw RunError(fmt::format("composition needs a finite number of uses >= 0, got {}", uses));
  RdpCurve total = per_use;
  for (double& epsilon : total.epsilons) epsilon = uses == 0 ? 0.0 : epsilon * uses;
  return total;
}

RdpCurve compose(const std::vector<RdpCurve>& curves) {
  if (curves.empty()) throw RunError("composition of no RDP curves");
  RdpCurve total = curves.front();
  for (size_t i = 1; i < curves.size(); ++i) {
    if (curves[i].orders != total.orders)
      throw RunError("composition of RDP curves needs the same orders in each");
    for (size_t k = 0; k < total.epsilons.size(); ++k) total.epsilons[k] += curves[i].epsilons[k];
  }
  return total;
}

DpGuarantee rdp_to_dp(const RdpCurve& curve, double delta, RdpConversion conversion) {
  if (!(delta > 0 && delta < 1))
    throw RunError(fmt::format("delta must be in (0, 1), got {}", delta));
  if (curve.orders.empty() || curve.orders.size() != curve.epsilons.size())
    throw RunError(fmt::format("an RDP curve with {} orders and {} epsilons", curve.orders.size(),
                               curve.epsilons.size()));
  DpGuarantee best{kInfinity, delta, curve.orders.front()};
  for (size_t k = 0; k < curve.orders.size(); ++k) {
    const double order = curve.orders[k], rdp = curve.epsilons[k];
    check_order(order);
    if (!(rdp >= 0)) throw RunError(fmt::format("RDP at order {} is {}", order, rdp));
    if (std::isinf(order)) {  // pure DP: (rdp, delta)-DP for every delta, in either conversion
      if (rdp < best.epsilon) best = {rdp, delta, order};
      continue;
    }
    double epsilon = rdp - std::log(delta) / (order - 1);
    if (conversion == RdpConversion::improved)
      epsilon = std::max(
          0.0, rdp + std::log1p(-1 / order) - (std::log(delta) + std::log(order)) / (order - 1));
    if (epsilon < best.epsilon) best = {epsilon, delta, order};
  }
  return best;
}

DpGuarantee rqm_epsilon(const RqmParams& params, const LocalAccounting& run) {
  return run_epsilon(rqm_rdp(params, run.orders), run);
}

DpGuarantee pbm_epsilon(const PbmParams& params, const LocalAccounting& run) {
  return run_epsilon(pbm_rdp(params, run.orders), run);
}

DpGuarantee gaussian_epsilon(double clip, double sigma, const LocalAccounting& run) {
  return run_epsilon(gaussian_rdp(clip, sigma, run.orders), run);
}

double gaussian_sigma_for_epsilon(double clip, double target_epsilon, const LocalAccounting& run,
                                  double tolerance) {
  auto epsilon_of = [&](double sigma) { return gaussian_epsilon(clip, sigma, run).epsilon; };
  return solve_falling(epsilon_of, target_epsilon, run, clip, 0.0, tolerance, "sigma");
}

double rqm_margin_for_epsilon(const RqmParams& params, double target_epsilon,
                              const LocalAccounting& run, double tolerance) {
  RqmParams trial = params;
  auto epsilon_of = [&](double margin) {
    trial.margin = margin;
    return rqm_epsilon(trial, run).epsilon;
  };
  return solve_falling(epsilon_of, target_epsilon, run, params.clip, 0.0, tolerance, "RQM margin");
}

double pbm_theta_for_epsilon(const PbmParams& params, double target_epsilon,
                             const LocalAccounting& run, double tolerance) {
  // Epsilon rises with theta, so search s = 1/theta in [2, inf), where it falls.
  PbmParams trial = params;
  auto epsilon_of = [&](double inverse_theta) {
    trial.theta = 1 / inverse_theta;
    return pbm_epsilon(trial, run).epsilon;
  };
  return 1 / solve_falling(epsilon_of, target_epsilon, run, 4.0, 2.0, tolerance, "PBM theta");
}

}  // namespace flowlab::ops::privacy
