#pragma once
// Randomized smoothing (Cohen, Rosenfeld & Kolter, ICML 2019) over any base classifier given as a
// logits function. Noise is added in the input's own space (raw [0,1] pixels for flowlab's
// classifiers, whose first layer normalizes), so radii are l2 distances in that space.
#include <functional>

#include <ATen/core/Tensor.h>

namespace at {
class Generator;
}

namespace flowlab::ops::certify {

/// Base classifier: a batch [B, ...] -> logits [B, K]. The samplers below call it from several
/// threads at once (on different batches) when the node has more than one thread: it must be
/// safe for that (a model in eval mode without autograd is).
using LogitsFn = std::function<at::Tensor(const at::Tensor& batch)>;

/// What the logits function expects of its input: (mask * (x + noise) - shift) / scale. A model
/// whose first layer standardizes (and masks) pixels can skip that layer and take the standardized
/// noisy batch directly: the sampler builds it in one pass (image standardized once, noise drawn
/// with std sigma / scale). The identity (default) hands over x + noise.
struct InputStandardization {
  double shift = 0.0, scale = 1.0;
  at::Tensor mask;  // undefined = all pixels
};

struct SmoothingOptions {
  double sigma = 0.25;
  int64_t n0 = 100;   // selection samples (CERTIFY)
  int64_t n = 10000;  // estimation samples (CERTIFY) or samples (PREDICT)
  double alpha = 0.001;
  int64_t batch_size = 1000;
  InputStandardization input;
};

inline constexpr int64_t kAbstain = -1;

struct Certificate {
  int64_t prediction = kAbstain;  // class, or kAbstain
  double radius = 0.0;            // l2 radius (0 when abstaining)
  int64_t count = 0;              // votes for the selected class among the n estimation samples
  double p_lower = 0.0;           // one-sided Clopper-Pearson lower bound on its probability
};

/// Class counts of the base classifier's predictions on `num` noisy copies of x ([C,H,W]).
at::Tensor sample_counts(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t num_classes, int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input = {});

/// How many batches num noisy copies take: the last one is cut to exactly num.
inline int64_t noisy_batch_count(int64_t num, int64_t batch_size) {
  return (num + batch_size - 1) / batch_size;
}

/// Visits batch k (0, 1, ..., noisy_batch_count - 1) of noisy copies: [b, ...], b <= batch_size.
using NoisyBatchVisitor = std::function<void(int64_t k, const at::Tensor& batch)>;

/// Calls `visit` with the batches of noisy copies x + N(0, sigma^2 I), num copies in all. Batch
/// k's noise is drawn from `gen` in batch order, so it holds the same numbers whatever the
/// threads. With more than one intra-op thread (at::get_num_threads()), that many workers of one
/// thread each visit batches side by side: `visit` must be safe to call from several threads at
/// once on different k, and must not depend on the order of k. A batch tensor is reused by its
/// worker for a later batch: copy what you keep. The first exception stops every worker and is
/// rethrown.
void for_each_noisy_batch(const at::Tensor& x, int64_t num, double sigma, int64_t batch_size,
                          at::Generator& gen, const NoisyBatchVisitor& visit,
                          const InputStandardization& input = {});

/// The base classifier's logits on `num` noisy copies of x: [num, K] float32 on the CPU.
at::Tensor sample_logits(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input = {});

/// CERTIFY: select the class on n0 samples, bound its probability on n fresh samples,
/// radius sigma * Phi^{-1}(p_lower); abstain when p_lower < 1/2.
Certificate certify(const LogitsFn& f, const at::Tensor& x, int64_t num_classes,
                    const SmoothingOptions& options, at::Generator& gen);

/// PREDICT: the top class of n samples if the two-sided binomial test of the top two counts
/// rejects p = 1/2 at level alpha, else kAbstain.
int64_t predict(const LogitsFn& f, const at::Tensor& x, int64_t num_classes,
                const SmoothingOptions& options, at::Generator& gen);

}  // namespace flowlab::ops::certify
