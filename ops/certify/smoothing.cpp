#include "ops/certify/smoothing.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "ops/certify/stats.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops::certify {
namespace {

// Long-lived helper threads for the samplers' workers. A thread's first GEMM or convolution sets
// up per-thread state (OpenBLAS and oneDNN buffers): measured, a fresh helper per call made the
// MLP's estimation ~1.7x slower. The pool grows to the most helpers ever asked for at once and
// lives until exit (never destroyed: idle threads wait on a condition, and exit-time destruction
// order against LibTorch's own statics is then no concern).
class HelperThreads {
 public:
  static HelperThreads& instance() {
    static auto* pool = new HelperThreads;
    return *pool;
  }

  /// Runs `task` on an idle helper (a new one when none is idle); the future holds its end.
  std::future<void> run(std::function<void()> task) {
    std::packaged_task<void()> packaged(std::move(task));
    auto done = packaged.get_future();
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(packaged));
    if (queue_.size() > idle_) std::thread([this] { serve(); }).detach();
    ready_.notify_one();
    return done;
  }

 private:
  void serve() {
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ++idle_;
        ready_.wait(lock, [this] { return !queue_.empty(); });
        --idle_;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();  // an exception lands in the task's future
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> queue_;
  size_t idle_ = 0;
};

}  // namespace

void for_each_noisy_batch(const at::Tensor& x, int64_t num, double sigma, int64_t batch_size,
                          at::Generator& gen, const NoisyBatchVisitor& visit,
                          const InputStandardization& input) {
  // Each worker's buffer is filled in place: noise drawn and the image added in place, so a batch
  // costs one pass of random numbers and no allocations (the Python reference allocates a repeated
  // image, the noise, the scaled noise and their sum for every batch). All noise comes from the
  // image's one generator, in batch order: every sample is an independent draw, as the
  // Clopper-Pearson bound requires (per-chunk generators with derived seeds could repeat a stream).
  std::vector<int64_t> shape{std::min(batch_size, num)};
  for (auto s : x.sizes()) shape.push_back(s);
  auto image = x.to(torch::kCPU, torch::kFloat32).unsqueeze(0);
  const bool masked = input.mask.defined();
  // The mask broadcasts over channels ([1, 1, H, W] against [1, C, H, W]).
  auto mask = masked ? input.mask.to(torch::kCPU, torch::kFloat32).expand_as(image).contiguous()
                     : at::Tensor();
  if (masked) image = image * mask;
  image = (image - input.shift) / input.scale;
  const double noise_std = sigma / input.scale;
  const int64_t batches = noisy_batch_count(num, batch_size);

  // Drawing is sequential (mt19937; LibTorch fills a float tensor in one thread, ~2.5 ns a number:
  // as long as an MLP's forward on the batch), and a forward split over threads runs at the pace
  // of its slowest thread. So a node given T > 1 threads runs T workers of one thread each (this
  // thread and T - 1 helpers); each takes the next batch, draws its noise (one worker at a time,
  // in batch order) and visits it while the others draw or visit theirs. Batch k holds the same
  // numbers whatever the thread count, and every forward runs on one thread.
  const int workers = int(std::min<int64_t>(std::max(1, at::get_num_threads()), batches));
  std::mutex draw_mutex;
  int64_t next = 0;
  bool failed = false;
  auto work = [&](const at::Tensor& buffer) {
    try {
      for (;;) {
        int64_t k = 0;
        at::Tensor batch;
        {
          std::lock_guard<std::mutex> lock(draw_mutex);
          if (failed || next == batches) return;
          k = next++;
          // The last batch is cut to exactly num.
          batch = buffer.narrow(0, 0, std::min(batch_size, num - k * batch_size));
          batch.normal_(0.0, noise_std, gen);
        }
        if (masked) batch.mul_(mask);
        batch.add_(image);
        visit(k, batch);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(draw_mutex);
      failed = true;  // the other workers stop at their next batch
      throw;
    }
  };
  if (workers == 1) {
    work(torch::empty(shape, torch::kFloat32));
    return;
  }
  const bool grad = at::GradMode::is_enabled();
  std::vector<std::future<void>> helpers;
  for (int w = 1; w < workers; ++w)
    helpers.push_back(
        HelperThreads::instance().run([&, buffer = torch::empty(shape, torch::kFloat32)] {
          at::AutoGradMode same_grad_mode(grad);
          set_torch_threads(1);
          work(buffer);
        }));
  std::exception_ptr error;
  const int threads = at::get_num_threads();
  set_torch_threads(1);
  try {
    work(torch::empty(shape, torch::kFloat32));
  } catch (...) {
    error = std::current_exception();
  }
  set_torch_threads(threads);
  for (auto& helper : helpers) try {
      helper.get();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  if (error) std::rethrow_exception(error);
}

at::Tensor sample_counts(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t num_classes, int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  auto counts = torch::zeros({num_classes}, torch::kInt64);
  std::mutex counts_mutex;
  for_each_noisy_batch(
      x, num, sigma, batch_size, gen,
      [&](int64_t, const at::Tensor& batch) {
        auto predictions = f(batch.to(x.device())).argmax(1).to(torch::kCPU);
        auto batch_counts = torch::bincount(predictions, /*weights=*/{}, num_classes);
        std::lock_guard<std::mutex> lock(counts_mutex);  // integer sums: any order, same counts
        counts += batch_counts;
      },
      input);
  return counts;
}

at::Tensor sample_logits(const LogitsFn& f, const at::Tensor& x, int64_t num, double sigma,
                         int64_t batch_size, at::Generator& gen,
                         const InputStandardization& input) {
  torch::NoGradGuard no_grad;  // measured faster than InferenceMode for convolutions here
  std::vector<at::Tensor> parts(size_t(noisy_batch_count(num, batch_size)));
  for_each_noisy_batch(
      x, num, sigma, batch_size, gen,
      [&](int64_t k, const at::Tensor& batch) {
        parts[size_t(k)] = f(batch.to(x.device())).to(torch::kCPU, torch::kFloat32);
      },
      input);
  return torch::cat(parts, 0);
}

Certificate certify(const LogitsFn& f, const at::Tensor& x, int64_t num_classes,
                    const SmoothingOptions& o, at::Generator& gen) {
  // Selection and estimation use separate draws: reusing the selection samples would bias the
  // bound upward.
  auto selection = sample_counts(f, x, o.n0, o.sigma, num_classes, o.batch_size, gen, o.input);
  int64_t top = selection.argmax().item<int64_t>();
  auto estimation = sample_counts(f, x, o.n, o.sigma, num_classes, o.batch_size, gen, o.input);
  Certificate c;
  c.count = estimation[top].item<int64_t>();
  c.p_lower = clopper_pearson_lower(c.count, o.n, o.alpha);
  if (c.p_lower < 0.5) return c;  // abstain
  c.prediction = top;
  c.radius = o.sigma * normal_quantile(c.p_lower);
  return c;
}

int64_t predict(const LogitsFn& f, const at::Tensor& x, int64_t num_classes,
                const SmoothingOptions& o, at::Generator& gen) {
  auto counts = sample_counts(f, x, o.n, o.sigma, num_classes, o.batch_size, gen, o.input);
  auto [values, indices] = counts.topk(std::min<int64_t>(2, num_classes));
  int64_t n1 = values[0].item<int64_t>();
  int64_t n2 = num_classes > 1 ? values[1].item<int64_t>() : 0;
  if (binomial_test_half(n1, n1 + n2) > o.alpha) return kAbstain;
  return indices[0].item<int64_t>();
}

}  // namespace flowlab::ops::certify
