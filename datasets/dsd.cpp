// dataset.dsd: the Dynamic Signal Distribution (k patches, one of which carries the signed signal
// y w*), with the Bayes-optimal accuracy as the reference every model is read against.
#include "datasets/dsd.h"

#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/register.h"

namespace flowlab::datasets {

namespace {

// Samples are drawn in chunks of this many, each chunk from its own generator: a split of n
// samples is the first n of an endless stream, whatever n is.
constexpr int64_t kDsdChunk = 256;
// The population Bayes accuracy depends on (k, sigma) only, so its estimate uses one fixed seed:
// every run of a task reports the same reference number.
constexpr uint64_t kDsdBayesSeed = 0x5eedba7e5ULL;

// splitmix64's finalizer: turns (seed, stream, chunk) into well-separated generator seeds.
uint64_t dsd_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

at::Generator dsd_generator(uint64_t seed, uint64_t stream, uint64_t chunk) {
  return at::detail::createCPUGenerator(dsd_mix(dsd_mix(dsd_mix(seed) ^ stream) ^ chunk));
}

// Standard normal CDF, elementwise.
torch::Tensor dsd_normal_cdf(const torch::Tensor& t) {
  return 0.5 * torch::erfc(-t / std::sqrt(2.0));
}

// asinh(S) for S = sum_j sinh(a_j) (rows of a), without overflow: |S| is formed in log space from
// the two log-sum-exps, so a_j of several hundred (small sigma) stay finite.
torch::Tensor dsd_asinh_sum_sinh(const torch::Tensor& a) {
  auto lp = torch::logsumexp(a, 1), lm = torch::logsumexp(-a, 1);
  auto hi = torch::maximum(lp, lm), lo = torch::minimum(lp, lm);
  // log |S| = log((e^hi - e^lo) / 2); -inf when S = 0.
  auto log_abs = hi + torch::log1p(-torch::exp(lo - hi)) - std::log(2.0);
  // asinh(e^l) = l + log(1 + sqrt(1 + e^-2l)); for l < 20 evaluate it directly (no overflow).
  auto direct = torch::asinh(torch::exp(torch::clamp_max(log_abs, 20.0)));
  auto large =
      log_abs + torch::log1p(torch::sqrt(1.0 + torch::exp(-2.0 * torch::clamp_min(log_abs, 20.0))));
  return torch::sign(lp - lm) * torch::where(log_abs < 20.0, direct, large);
}

}  // namespace

at::Tensor dsd_signal(int64_t d, uint64_t signal_seed) {
  auto gen = dsd_generator(signal_seed, /*stream=*/0, /*chunk=*/0);
  // An isotropic Gaussian, normalized: uniform on the unit sphere.
  auto g = torch::randn({d}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  return (g / g.norm()).to(torch::kFloat32);
}

DsdSplit sample_dsd(const at::Tensor& w_star, int64_t k, double sigma, int64_t n, uint64_t seed,
                    DsdStream stream) {
  const int64_t d = w_star.size(0);
  auto w = w_star.to(torch::kFloat32);
  std::vector<torch::Tensor> xs, ys, is;
  for (int64_t chunk = 0; chunk * kDsdChunk < n; ++chunk) {
    auto gen = dsd_generator(seed, static_cast<uint64_t>(stream), static_cast<uint64_t>(chunk));
    auto y =
        torch::randint(0, 2, {kDsdChunk}, gen, torch::kInt64).mul_(2).sub_(1).to(torch::kFloat32);
    auto idx = torch::randint(0, k, {kDsdChunk}, gen, torch::kInt64);
    auto noise =
        torch::randn({kDsdChunk, k, d}, gen, torch::TensorOptions().dtype(torch::kFloat32));
    // x = sigma * xi + y (e_{i*} (x) w*): the signal is added to patch i* only.
    auto onehot = torch::nn::functional::one_hot(idx, k).to(torch::kFloat32);  // [C, k]
    auto signal =
        onehot.unsqueeze(2) * (y.unsqueeze(1) * w.unsqueeze(0)).unsqueeze(1);  // [C, k, d]
    xs.push_back(noise.mul_(sigma).add_(signal));
    ys.push_back(y);
    is.push_back(idx);
  }
  DsdSplit s;
  s.x = torch::cat(xs).slice(0, 0, n).contiguous();
  s.y = torch::cat(ys).slice(0, 0, n).contiguous();
  s.signal_index = torch::cat(is).slice(0, 0, n).contiguous();
  return s;
}

at::Tensor dsd_bayes_log_odds(const at::Tensor& x, const at::Tensor& w_star, double sigma) {
  auto proj = x.to(torch::kFloat64).matmul(w_star.to(torch::kFloat64)) / (sigma * sigma);  // [n, k]
  return torch::logsumexp(proj, 1) - torch::logsumexp(-proj, 1);
}

double sign_accuracy(const at::Tensor& score, const at::Tensor& y) {
  if (score.numel() == 0) return 0.0;
  auto margin = score.to(torch::kFloat64) * y.to(torch::kFloat64);
  auto right = margin.gt(0).to(torch::kFloat64) + 0.5 * margin.eq(0).to(torch::kFloat64);
  return right.mean().item<double>();
}

Estimate dsd_bayes_accuracy(int64_t k, double sigma, int64_t samples, uint64_t seed) {
  if (k == 1) return {0.5 * std::erfc(-1.0 / (sigma * std::sqrt(2.0))), 0.0};
  double sum = 0, sum_sq = 0;
  const int64_t chunk_rows = 65536;
  for (int64_t start = 0, chunk = 0; start < samples; start += chunk_rows, ++chunk) {
    const int64_t m = std::min(chunk_rows, samples - start);
    auto gen = dsd_generator(seed, /*stream=*/3, static_cast<uint64_t>(chunk));
    auto g = torch::randn({m, k - 1}, gen, torch::TensorOptions().dtype(torch::kFloat64));
    // Noise patch j contributes sinh(<w*,x_j>/sigma^2) = sinh(g_j/sigma); the signal patch is
    // correct-side iff (1 + sigma g_0)/sigma^2 > -asinh(S), which has probability Phi(...).
    auto p = dsd_normal_cdf((1.0 + sigma * sigma * dsd_asinh_sum_sinh(g / sigma)) / sigma);
    sum += p.sum().item<double>();
    sum_sq += p.square().sum().item<double>();
  }
  const double n = static_cast<double>(samples), mean = sum / n;
  const double var = std::max(0.0, sum_sq / n - mean * mean) * n / std::max(n - 1.0, 1.0);
  return {mean, std::sqrt(var / n)};
}

void DsdData::save(const std::filesystem::path& dir) const {
  const std::vector<torch::Tensor> tensors{
      train.x, train.y, train.signal_index, test.x, test.y, test.signal_index, w_star};
  write_file_with(dir / "tensors.pt", [&](const ByteSink& s) { torch::save(tensors, s); });
  nlohmann::json meta = {{"k", k},
                         {"d", d},
                         {"sigma", sigma},
                         {"bayes_accuracy_test", bayes_accuracy_test},
                         {"bayes_accuracy", bayes_accuracy.value},
                         {"bayes_accuracy_se", bayes_accuracy.standard_error}};
  write_text_file(dir / "meta.json", meta.dump(1));
}

ArtifactPtr DsdData::load(const std::filesystem::path& dir) {
  auto data = std::make_shared<DsdData>();
  std::vector<torch::Tensor> t;
  torch::load(t, (dir / "tensors.pt").string());
  if (t.size() != 7) throw RunError(dir.string() + ": not a saved dsd artifact");
  data->train = {t[0], t[1], t[2]};
  data->test = {t[3], t[4], t[5]};
  data->w_star = t[6];
  std::ifstream in(dir / "meta.json");
  auto meta = nlohmann::json::parse(in);
  data->k = meta.at("k"), data->d = meta.at("d"), data->sigma = meta.at("sigma");
  data->bayes_accuracy_test = meta.at("bayes_accuracy_test");
  data->bayes_accuracy = {meta.at("bayes_accuracy"), meta.at("bayes_accuracy_se")};
  return data;
}

namespace {

// The population Bayes accuracy depends on (k, sigma, samples) only (its seed is fixed), and a
// sweep asks for it once per (n, seed) of every shape: computed once per process instead (a
// third of a DSD sweep's dataset time otherwise). Pure function, so a memo changes no result.
Estimate memoized_bayes_accuracy(int64_t k, double sigma, int64_t samples) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, double, int64_t>, Estimate> memo;
  const auto key = std::make_tuple(k, sigma, samples);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
  }
  Estimate e = dsd_bayes_accuracy(k, sigma, samples, kDsdBayesSeed);
  std::lock_guard<std::mutex> lock(mutex);
  return memo.emplace(key, e).first->second;
}

ArtifactPtr run_dataset_dsd(OpContext& ctx) {
  const Params& p = ctx.params();
  // Small tensors: one intra-op thread (more only add OpenMP barriers; see train.dsd).
  at::set_num_threads(1);
  auto data = std::make_shared<DsdData>();
  data->k = p.get_int("k");
  data->d = p.get_int("d");
  data->sigma = p.get_float("sigma");
  const auto seed = static_cast<uint64_t>(p.get_int("seed"));
  data->w_star = dsd_signal(data->d, static_cast<uint64_t>(p.get_int("signal_seed")));
  data->train =
      sample_dsd(data->w_star, data->k, data->sigma, p.get_int("n_train"), seed, DsdStream::kTrain);
  ctx.check_cancelled();
  data->test =
      sample_dsd(data->w_star, data->k, data->sigma, p.get_int("n_test"), seed, DsdStream::kTest);
  ctx.check_cancelled();
  data->bayes_accuracy_test =
      sign_accuracy(dsd_bayes_log_odds(data->test.x, data->w_star, data->sigma), data->test.y);
  data->bayes_accuracy = memoized_bayes_accuracy(data->k, data->sigma, p.get_int("bayes_samples"));

  ctx.log_metric("n_train", static_cast<double>(data->train.size()));
  ctx.log_metric("n_test", static_cast<double>(data->test.size()));
  ctx.log_metric("bayes_accuracy", data->bayes_accuracy_test);
  ctx.log_metric("bayes_error", 1.0 - data->bayes_accuracy_test);
  ctx.log_metric("bayes_accuracy_expected", data->bayes_accuracy.value);
  ctx.log_metric("bayes_accuracy_expected_se", data->bayes_accuracy.standard_error);
  return data;
}

}  // namespace

void register_dsd(Registry& r) {
  OpDef op;
  op.name = "dataset.dsd";
  op.summary =
      "Dynamic Signal Distribution: k patches of dimension d, one holding y w* + noise; "
      "with the Bayes-optimal accuracy";
  op.version = 1;
  op.threads = 1;  // sampling and the Bayes estimate reduce in parallel: fixed for reproducibility
  op.params = {
      int_param("k", 8, "number of patches", 1.0, 4096.0),
      int_param("d", 8, "dimension of a patch (and of the signal w*)", 1.0, 4096.0),
      float_param("sigma", 0.5, "noise standard deviation per coordinate (the signal has norm 1)",
                  0.0, 100.0, /*min_exclusive=*/true),
      int_param("n_train", 1024,
                "training samples; a larger n extends the same stream (nested "
                "training sets along an n grid)",
                1.0, 1e8),
      int_param("n_test", 10000, "test samples; the same points whatever n_train is", 1.0, 1e8),
      int_param("signal_seed", 0,
                "seed of the signal vector w* (the task itself); not the spec's seed, so a sweep "
                "over `seed` repeats the experiment on the same task",
                0.0),
      inherited(int_param("seed", 0,
                          "seed of the training and test samples (independent streams; default: "
                          "the spec's seed)",
                          0.0)),
      int_param("bayes_samples", 200000,
                "Monte-Carlo draws for the population Bayes accuracy (logged as "
                "bayes_accuracy_expected with its standard error; a fixed seed, so it depends on "
                "k, sigma and this number only)",
                1000.0, 1e9),
  };
  op.output_type = DsdData::kType;
  // Regenerating a split takes milliseconds; storing it takes megabytes per node, and a sample-
  // complexity sweep has hundreds of dataset nodes.
  op.cache_output = false;
  op.run = run_dataset_dsd;
  r.add(std::move(op));
}

}  // namespace flowlab::datasets
