#pragma once
// The Dynamic Signal Distribution (DSD) of Lahoti et al., "Role of Locality and Weight Sharing in
// Image-Based Tasks" (ICLR 2024), its Bayes-optimal classifier, and the `dsd` artifact.
//
// A sample has k patches of dimension d. A unit signal vector w* is fixed for the task. The label
// y is uniform in {-1, +1}; the signal patch index i* is uniform in 0..k-1, independent of y;
// patch i* is y w* + N(0, sigma^2 I_d) and every other patch is pure N(0, sigma^2 I_d) noise.
//
// Seeds: w* comes from `signal_seed` alone, samples from `seed` alone, so sweeping `seed` repeats
// the experiment on the same task. Samples come in fixed chunks, each from its own generator, so
// the first n training samples do not depend on n_train (training sets are nested along an n
// grid) and the test set does not depend on n_train either (every n is scored on the same test
// points).
#include <cstdint>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "graph/artifact.h"

namespace flowlab::datasets {

/// Samples of the DSD task.
struct DsdSplit {
  at::Tensor x;  // [n, k, d] float32
  at::Tensor y;  // [n] float32, exactly -1 or +1
  at::Tensor
      signal_index;  // [n] int64 in 0..k-1: the patch holding y w* (known to the generator only)
  int64_t size() const { return y.defined() ? y.size(0) : 0; }
};

/// The task's signal w*: a [d] float32 unit vector, uniform on the sphere, drawn from
/// `signal_seed`.
at::Tensor dsd_signal(int64_t d, uint64_t signal_seed);

/// Sample streams of one seed: the training and test splits never share a generator.
enum class DsdStream : uint64_t { kTrain = 1, kTest = 2 };

/// The first n samples of the stream (seed, stream) of the task (w*, k, sigma). A prefix of a
/// longer draw: sample_dsd(.., n) equals the first n rows of sample_dsd(.., m) for m >= n.
DsdSplit sample_dsd(const at::Tensor& w_star, int64_t k, double sigma, int64_t n, uint64_t seed,
                    DsdStream stream);

/// The Bayes-optimal score, in float64 [n]: the posterior log-odds (w* known, uniform priors)
///   log p(y=+1|x) / p(y=-1|x) = logsumexp_j(<w*,x_j>/sigma^2) - logsumexp_j(-<w*,x_j>/sigma^2).
/// The Bayes classifier is its sign (equivalently sign(sum_j sinh(<w*,x_j>/sigma^2))). This
/// decision rule is what is closed form; its accuracy is not (for k > 1) and is estimated, on the
/// test points or by dsd_bayes_accuracy.
at::Tensor dsd_bayes_log_odds(const at::Tensor& x, const at::Tensor& w_star, double sigma);

/// Accuracy of sign(score) against labels in {-1, +1}; a zero score counts as half right (the
/// expected accuracy of breaking the tie with a fair coin).
double sign_accuracy(const at::Tensor& score, const at::Tensor& y);

/// A Monte-Carlo estimate and its standard error.
struct Estimate {
  double value = 0, standard_error = 0;
};

/// The Bayes classifier's population accuracy. It depends on (k, sigma) only: by the symmetries
/// of the task it is P(correct | y = +1, i* = 0), and given the noise of the k-1 other patches
/// the signal patch's noise can be integrated out exactly:
///   accuracy = E[ Phi((1 + sigma^2 asinh S) / sigma) ],  S = sum_{j=1}^{k-1} sinh(g_j / sigma),
/// g_j ~ N(0, 1) i.i.d. The expectation is estimated from `samples` draws of g (seeded by
/// `seed`); for k = 1 it is exactly Phi(1/sigma) with zero error.
Estimate dsd_bayes_accuracy(int64_t k, double sigma, int64_t samples, uint64_t seed);

/// The `dsd` artifact: a DSD task (w*, k, d, sigma), its training and test samples, and the
/// Bayes-optimal accuracy as a reference for every model trained on it.
struct DsdData : Artifact {
  DsdSplit train, test;
  at::Tensor w_star;  // [d] float32, unit norm
  int64_t k = 0, d = 0;
  double sigma = 1.0;
  /// The Bayes classifier's accuracy on `test` (same points a model is scored on).
  double bayes_accuracy_test = 0;
  /// The Bayes classifier's population accuracy (see dsd_bayes_accuracy).
  Estimate bayes_accuracy;

  static constexpr const char* kType = "dsd";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir);
};

}  // namespace flowlab::datasets
