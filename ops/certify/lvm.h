#pragma once
// LVM-RS, the Lipschitz-variance-margin variant of randomized smoothing (Delattre, Araujo,
// Barthelemy & Allauzen, ICLR 2024), in the two-stage form of the paper's Algorithm 2.
//
// Instead of smoothing the one-hot vote, smooth a "simplex map" S of temperature-scaled logits:
// p~(x) = E_eps[S(t z(x + eps))] in the probability simplex. Every coordinate of S lies in [0,1],
// so x -> Phi^{-1}(p~_c(x)) is (1/sigma)-Lipschitz (Salman et al. 2019) and Cohen's Theorem 1
// holds for the smoothed soft classifier argmax_c p~_c:
//   R = (sigma/2) (Phi^{-1}(p_A lower) - Phi^{-1}(max_{c != A} p_c upper)).
// A soft map lowers the variance of the Monte-Carlo estimate (tighter empirical-Bernstein bounds)
// at the cost of a smaller margin; the best (map, t) depends on the input.
//
// What it certifies: the map, temperature and class are chosen per input, so each certificate is
// about the smoothed classifier chosen for that input. Two certificates can therefore contradict
// each other (an audit's example: sigma = 1, logits (0, 0.01) if u_1 > 0 else (0, -10); at
// x = Phi^-1(0.55) softmax is chosen and certifies class 0 with R ~ 0.558, at x + 0.5, inside that
// ball, hardmax is chosen and certifies class 1 with R ~ 0.579). This is the paper's per-input
// procedure; it is not a certificate of one deployed classifier as Cohen's are.
//
// Soundness needs two independent samples: n0 selection samples choose (map, t, A), and n fresh
// samples bound that one choice. Taking the best radius over many candidates on the same samples
// (what the public reference code does) is a multiple-testing search that is not alpha-controlled.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ops/certify/smoothing.h"

namespace flowlab::ops::certify {

/// The simplex maps of LVM-RS. hardmax is the one-hot vote (plain Cohen smoothing).
enum class SimplexMap { hardmax, softmax, sparsemax };

/// "hardmax", "softmax", "sparsemax".
std::string to_string(SimplexMap map);
/// The inverse of to_string; throws std::invalid_argument on any other name.
SimplexMap parse_simplex_map(const std::string& name);

/// One-hot of each row's argmax ([N, K] -> [N, K] float64); ties go to the lowest index.
at::Tensor hardmax(const at::Tensor& logits);
/// softmax(t z) row-wise, float64.
at::Tensor softmax(const at::Tensor& logits, double temperature);
/// sparsemax(t z) row-wise (Martins & Astudillo 2016): the Euclidean projection of t z onto the
/// probability simplex, float64.
at::Tensor sparsemax(const at::Tensor& logits, double temperature);
/// `map` applied to t z (hardmax ignores t: it is scale invariant).
at::Tensor apply_simplex_map(SimplexMap map, const at::Tensor& logits, double temperature);

/// Per-class sample statistics of mapped outputs [n, K].
struct ClassMoments {
  int64_t n = 0;
  std::vector<double> mean;
  std::vector<double> variance;  // unbiased (divides by n - 1); 0 when n < 2
};
ClassMoments class_moments(const at::Tensor& mapped);

/// One-sided confidence bounds on every class's expected mapped output.
struct ClassBounds {
  std::vector<double> lower, upper;
};

/// Bounds for samples of `map` with the given moments, as if they came from `n` samples. Each
/// class gets delta = alpha / K (Bonferroni): a certificate uses one side per class (the lower
/// bound of A, the upper bounds of the others), so all K hold together with probability
/// >= 1 - alpha. hardmax: exact Clopper-Pearson on the counts round(mean * n); softmax and
/// sparsemax: Maurer-Pontil empirical Bernstein with the unbiased variance. Clamped to [0, 1].
/// With n = moments.n these are the real bounds; with another n, the predicted ones.
ClassBounds class_bounds(SimplexMap map, const ClassMoments& moments, int64_t n, double alpha);

/// Theorem 1 radius (sigma/2)(Phi^{-1}(lower[a]) - Phi^{-1}(max_{c != a} upper[c])); -inf when
/// lower[a] = 0. Needs K >= 2. A certificate abstains when this is <= 0.
double lvm_radius(const ClassBounds& bounds, int64_t a, double sigma);

/// The largest radius any certificate can reach with n samples, K classes and these maps: every
/// sample mapped to one class with no variance (mean 1 for A, 0 for the others), bounded as
/// certification bounds them. Clopper-Pearson at alpha/K gives sigma Phi^-1((alpha/K)^(1/n)),
/// empirical Bernstein sigma Phi^-1(1 - 7 ln(2K/alpha) / (3(n - 1))); the larger of the maps'
/// caps. Below Cohen's sigma Phi^-1(alpha^(1/n)): the per-class alpha / K costs radius.
double lvm_max_radius(const std::vector<SimplexMap>& maps, int64_t n, int64_t k, double alpha,
                      double sigma);

/// A candidate smoothing: a map and a temperature (+inf for hardmax).
struct LvmCandidate {
  SimplexMap map = SimplexMap::hardmax;
  double temperature = 0;
};

/// Every map in `maps` with every temperature, in that order; hardmax appears once (t = +inf).
std::vector<LvmCandidate> lvm_candidates(const std::vector<SimplexMap>& maps,
                                         const std::vector<double>& temperatures);

/// What the selection stage chose.
struct LvmSelection {
  LvmCandidate candidate;
  int64_t cls = 0;              // A: argmax of the candidate's mapped selection mean
  double predicted_radius = 0;  // the radius the predictor expects from n samples
};

/// Algorithm 2's selection step, on the n0 selection logits only: for each candidate, the class
/// A = argmax of its mapped mean, and the radius it would certify from n estimation samples if
/// their means and variances were those of the selection samples (the n0 statistics plugged into
/// the bound formulas with n in place of n0). Returns the candidate with the largest predicted
/// radius (the first one on ties).
LvmSelection select_lvm_candidate(const at::Tensor& selection_logits,
                                  const std::vector<LvmCandidate>& candidates, int64_t n,
                                  double sigma, double alpha);

/// The fixed mode's choice: the one candidate used for every test image, chosen on held-out
/// calibration images (their n0 selection logits, one [n0, K] tensor per image) as the one with
/// the largest mean predicted radius (the selection predictor above, abstentions counted as 0;
/// the first on ties). Every test certificate is then about one smoothed classifier,
/// argmax_c E[S(t z(x + eps))_c] with that (map, t), like Cohen's for hardmax, so certificates
/// cannot contradict each other.
struct LvmCalibration {
  LvmCandidate candidate;
  double mean_predicted_radius = 0;
};
LvmCalibration calibrate_lvm_candidate(const std::vector<at::Tensor>& selection_logits,
                                       const std::vector<LvmCandidate>& candidates, int64_t n,
                                       double sigma, double alpha);

/// The outcome of the estimation step for one selected candidate.
struct LvmCertificate {
  LvmSelection selection;
  int64_t prediction = kAbstain;  // selection.cls, or kAbstain
  double radius = 0;              // 0 when abstaining
  double p_lower = 0;             // lower bound on E[S_A]
  double p_upper = 1;             // max over c != A of the upper bounds on E[S_c]
  int64_t votes = 0;              // estimation samples whose argmax is A (for reference)
};

/// LVM-RS certificate: select on `selection_logits` ([n0, K]), then bound the chosen
/// (map, t, A) on `estimation_logits` ([n, K], fresh samples) only; abstains when R <= 0.
LvmCertificate certify_lvm(const at::Tensor& selection_logits, const at::Tensor& estimation_logits,
                           const std::vector<LvmCandidate>& candidates, double sigma, double alpha);

/// Cohen's CERTIFY from logits: A = the most voted class of the selection logits, Clopper-Pearson
/// lower bound at alpha on its votes among the estimation logits, radius sigma Phi^{-1}(p_lower),
/// abstain when p_lower < 1/2. Equals certify() on the same noise.
Certificate cohen_certificate(const at::Tensor& selection_logits,
                              const at::Tensor& estimation_logits, double sigma, double alpha);

struct LvmOptions {
  double sigma = 0.25;
  int64_t n0 = 100;   // selection samples
  int64_t n = 10000;  // estimation samples
  double alpha = 0.001;
  int64_t batch_size = 1000;
  InputStandardization input;  // how the logits function takes its input (see smoothing.h)
  std::vector<LvmCandidate> candidates;
};

/// Both certificates of one image from the same noise.
struct LvmImageResult {
  LvmCertificate lvm;
  Certificate cohen;
};

/// Samples logits once for the image x: n0 selection rows, then n fresh estimation rows
/// (n0 + n forward rows in all), and computes the LVM and Cohen certificates from them.
LvmImageResult certify_lvm_image(const LogitsFn& f, const at::Tensor& x, const LvmOptions& options,
                                 at::Generator& gen);

}  // namespace flowlab::ops::certify
