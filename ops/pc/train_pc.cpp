// train.pc: learns a probabilistic circuit over the 8-bit pixels of an image dataset (research
// notes §6.1): `independent` pixels (a categorical per pixel: one full EM step is the smoothed
// frequency count), a plain Chow-Liu tree over the pixels (`chow_liu`: fitted in closed form by
// counting, ops/pc/chow_liu_tree.h) or a hidden Chow-Liu tree (`hclt`): mutual information
// between binned pixels on a sample of the training images, the Chow-Liu tree rooted at a centre
// (both trees), M latent states per pixel, then mini-batch EM with a step size decaying linearly
// from step_start to step_end and a pseudocount, and a last full-batch EM step, as pyjuice's HCLT
// recipe. Runs through the shared training loop (progress, the NaN check, checkpoints and resume):
// one step per mini-batch, the full-batch step last. Logs the training log-likelihood per step
// (nats per pixel, before the step's update) and the validation bits per dimension after every
// epoch and at the end (step epochs + 1).
#include <chrono>
#include <cmath>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "ops/pc/chow_liu.h"
#include "ops/pc/circuit_model.h"
#include "ops/register.h"
#include "ops/training/checkpoint_files.h"
#include "ops/training/epoch_order.h"
#include "ops/training/loop.h"

namespace flowlab::ops::pc {
namespace {

namespace fs = std::filesystem;

// Images [N, C, H, W] of k / 255 floats back to their bytes, one row of pixels per image.
std::vector<uint8_t> pixels_of(const at::Tensor& x) {
  const auto bytes = x.reshape({x.size(0), -1}).mul(255.0).round().to(torch::kUInt8).contiguous();
  return std::vector<uint8_t>(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel());
}

// EM counts of samples `ids` (or [0, n) when empty) in a fixed number of chunks summed in order,
// so the result does not depend on the threads that computed it.
EmCounts counts_of(const Hclt& c, const std::vector<uint8_t>& data, const std::vector<int64_t>& ids,
                   int64_t n) {
  constexpr int64_t kChunks = 4;
  std::vector<EmCounts> parts(kChunks, EmCounts(c));
  std::vector<uint8_t> gathered;
  const uint8_t* rows = data.data();
  if (!ids.empty()) {
    gathered.resize(ids.size() * c.variables);
    for (size_t i = 0; i < ids.size(); ++i)
      std::copy_n(&data[ids[i] * c.variables], c.variables, &gathered[i * c.variables]);
    rows = gathered.data(), n = static_cast<int64_t>(ids.size());
  }
  at::parallel_for(0, kChunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      accumulate_counts(c, rows, n * k / kChunks, n * (k + 1) / kChunks, parts[k]);
  });
  for (int64_t k = 1; k < kChunks; ++k) parts[0].add(parts[k]);
  return std::move(parts[0]);
}

double bits_per_dim(const PixelModel& c, const std::vector<uint8_t>& data) {
  const int32_t d = c.pixel_count();
  const auto n = static_cast<int64_t>(data.size() / d);
  std::vector<double> ll(n);
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) ll[s] = c.log_likelihood(&data[s * d]);
  });
  double sum = 0;
  for (double x : ll) sum += x;
  return -sum / (static_cast<double>(n) * d * std::log(2.0));
}

// The Chow-Liu tree of the first mi_samples training images (binned mutual information).
std::vector<int32_t> chow_liu_tree_of(OpContext& ctx, const Params& p,
                                      const std::vector<uint8_t>& train, int64_t n, int32_t d) {
  if (256 % p.get_int("mi_bins") != 0)
    throw RunError(
        fmt::format("mi_bins {} does not divide the 256 pixel values", p.get_int("mi_bins")));
  const int64_t sample = std::min<int64_t>(n, p.get_int("mi_samples"));
  ctx.progress(0.0, fmt::format("mutual information of {} pixel pairs on {} images",
                                static_cast<int64_t>(d) * (d - 1) / 2, sample));
  const auto mi = mutual_information(train.data(), sample, d, 256,
                                     static_cast<int32_t>(p.get_int("mi_bins")), 0.0);
  return max_spanning_tree(mi, d);
}

class EmTrainer : public training::Trainer {
 public:
  EmTrainer(const Params& p, Hclt& circuit, std::vector<uint8_t> train, std::vector<uint8_t> valid)
      : c_(circuit),
        train_(std::move(train)),
        valid_(std::move(valid)),
        n_(static_cast<int64_t>(train_.size() / circuit.variables)),
        batch_(std::min<int64_t>(p.get_int("batch_size"), n_)),
        epochs_(p.get_int("epochs")),
        step_start_(p.get_float("step_start")),
        step_end_(p.get_float("step_end")),
        pseudocount_(p.get_float("pseudocount")),
        final_pseudocount_(p.get_float("final_pseudocount")),
        order_(n_, static_cast<uint64_t>(p.get_int("seed")) + 0x2545f4914f6cdd1dULL) {}

  int64_t steps_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  const std::vector<uint8_t>& valid() const { return valid_; }
  int64_t steps() const { return epochs_ * steps_per_epoch() + 1; }  // + the full-batch step

  training::StepResult step(int64_t step) override {
    steps_done_ = step;
    if (step == steps()) {  // the last, full-batch step
      const auto counts = counts_of(c_, train_, {}, n_);
      em_update(c_, counts, 1.0, final_pseudocount_);
      return {-counts.log_likelihood / static_cast<double>(n_ * c_.variables), n_};
    }
    const int64_t epoch = (step - 1) / steps_per_epoch() + 1, b = (step - 1) % steps_per_epoch();
    const auto perm = order_.permutation(epoch, torch::kCPU);
    const auto slice = perm.slice(0, b * batch_, std::min(n_, (b + 1) * batch_)).contiguous();
    const std::vector<int64_t> ids(slice.data_ptr<int64_t>(),
                                   slice.data_ptr<int64_t>() + slice.numel());
    const auto counts = counts_of(c_, train_, ids, 0);
    const double progress =
        steps() > 2 ? static_cast<double>(step - 1) / static_cast<double>(steps() - 2) : 0.0;
    em_update(c_, counts, step_start_ + (step_end_ - step_start_) * progress, pseudocount_);
    // The loss: nats per pixel of the batch under the parameters before this update.
    return {-counts.log_likelihood / static_cast<double>(ids.size() * c_.variables),
            static_cast<int64_t>(ids.size())};
  }

  void on_epoch_end(OpContext& ctx, int64_t epoch) override {
    if (!valid_.empty()) ctx.log_metric("val_bpd", bits_per_dim(c_, valid_), epoch);
  }

  std::string position(int64_t step) const override {
    if (step == steps()) return "full-batch EM step";
    return training::epoch_position(step, steps_per_epoch(), epochs_);
  }

  void save(const fs::path& dir) const override {
    training::save_tensors(dir / "params.pt",
                           {tensor_of(c_.prior), tensor_of(c_.transition), tensor_of(c_.emission)});
    training::save_tensor(dir / "generator.pt",
                          order_.checkpoint_state(steps_done_, steps_per_epoch()));
  }

  void load(const fs::path& dir) override {
    const auto t = training::load_tensors(dir / "params.pt");
    from_tensor(t.at(0), c_.prior), from_tensor(t.at(1), c_.transition);
    from_tensor(t.at(2), c_.emission);
    order_.restore(training::load_tensor(dir / "generator.pt"));
  }

 private:
  static torch::Tensor tensor_of(const std::vector<double>& v) {
    return torch::from_blob(const_cast<double*>(v.data()), {static_cast<int64_t>(v.size())},
                            torch::kFloat64)
        .clone();
  }
  static void from_tensor(const torch::Tensor& t, std::vector<double>& v) {
    if (t.numel() != static_cast<int64_t>(v.size()))
      throw RunError("the checkpoint's circuit has another size");
    std::copy_n(t.contiguous().data_ptr<double>(), v.size(), v.data());
  }

  Hclt& c_;
  std::vector<uint8_t> train_, valid_;
  int64_t n_, batch_, epochs_;
  double step_start_, step_end_, pseudocount_, final_pseudocount_;
  training::EpochOrder order_;
  int64_t steps_done_ = 0;
};

ArtifactPtr run_train_pc(OpContext& ctx) {
  const Params& p = ctx.params();
  auto data = ctx.input<datasets::ClassificationData>("data");
  if (!data->eight_bit)
    throw RunError("train.pc models 8-bit pixels; this dataset's pixels are not k / 255");
  auto train = pixels_of(data->train_x);
  const int64_t limit = p.get_int("limit_train");
  const auto d = static_cast<int32_t>(data->train_x[0].numel());
  if (limit > 0 && limit * d < static_cast<int64_t>(train.size())) train.resize(limit * d);
  const auto n = static_cast<int64_t>(train.size() / d);
  auto model = std::make_shared<CircuitModel>();
  model->structure = p.get_string("structure");
  model->height = static_cast<int32_t>(data->train_x.size(2));
  model->width = static_cast<int32_t>(data->train_x.size(3));
  const auto seed = static_cast<uint64_t>(p.get_int("seed"));
  const auto valid = pixels_of(data->val_x);
  if (model->structure == "chow_liu") {  // closed form: one counting pass, nothing to iterate
    const auto parent = chow_liu_tree_of(ctx, p, train, n, d);
    const auto t0 = std::chrono::steady_clock::now();
    ctx.progress(0.5, fmt::format("counting pixel pairs on {} images", n));
    model->tree = ChowLiuTree::fit(parent, train.data(), n, 256, p.get_float("smoothing"));
    ctx.log_metric("train_time_s",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!valid.empty()) ctx.log_metric("val_bpd", bits_per_dim(model->tree, valid));
    ctx.log_metric("stored_pairs", static_cast<double>(model->tree.pair_value.size()));
    ctx.log_metric("train_images", static_cast<double>(n));
    return model;
  }
  if (model->structure == "independent")
    model->hclt = Hclt::random(std::vector<int32_t>(d, -1), 1, 256, seed);
  else if (p.get_string("init") == "quantized")
    model->hclt =
        Hclt::quantized(chow_liu_tree_of(ctx, p, train, n, d),
                        static_cast<int32_t>(p.get_int("states")), 256, train.data(), n, seed);
  else
    model->hclt = Hclt::random(chow_liu_tree_of(ctx, p, train, n, d),
                               static_cast<int32_t>(p.get_int("states")), 256, seed);
  EmTrainer trainer(p, model->hclt, std::move(train), valid);
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps_per_epoch = trainer.steps_per_epoch();
  o.steps = trainer.steps();
  o.label = model->structure;
  o.hint = "the circuit's likelihood is not finite";
  const auto result = training::run_training(ctx, trainer, o);
  // After the full-batch step: one more point of the validation curve (its final value).
  if (!trainer.valid().empty())
    ctx.log_metric("val_bpd", bits_per_dim(model->hclt, trainer.valid()), p.get_int("epochs") + 1);
  ctx.log_metric("train_time_s", result.train_seconds);
  ctx.log_metric("edges", static_cast<double>(model->hclt.edges()));
  ctx.log_metric("train_images", static_cast<double>(n));
  return model;
}

}  // namespace

void register_train_pc(Registry& r) {
  r.add_type({CircuitModel::kType,
              "a probabilistic circuit over an image's pixels (structure, tree, parameters)",
              loader(&CircuitModel::load)});
  OpDef op;
  op.name = "train.pc";
  op.summary =
      "learn a probabilistic circuit over 8-bit pixels: independent pixels or a hidden Chow-Liu "
      "tree trained by mini-batch EM";
  op.version = 2;  // 2: pseudocounts spread over a distribution's entries; chow_liu; init
  op.threads = 2;
  op.headline_metrics = {"val_bpd", "train_time_s", "edges", "stored_pairs"};
  op.params = {
      string_param("structure", "hclt",
                   "independent: a categorical per pixel; chow_liu: a tree over the pixels, "
                   "counted in closed form; hclt: latent states on a Chow-Liu tree, by EM",
                   {"independent", "chow_liu", "hclt"}),
      int_param("states", 16, "latent states M per pixel (hclt)", 1.0, 256.0),
      string_param("init", "quantized",
                   "hclt's starting parameters: quantized (each latent first the pixel quantized "
                   "to M levels of equal mass, counted on the training images) or random "
                   "(uniform(0.5, 1.5) rows, as pyjuice)",
                   {"quantized", "random"}),
      int_param("epochs", 5, "passes of mini-batch EM over the training images", 0.0, 100000.0),
      int_param("batch_size", 512, "images per EM step", 1.0, 10'000'000.0),
      float_param("step_start", 0.9, "EM step size of the first mini-batch", 0.0, 1.0),
      float_param("step_end", 0.05, "EM step size of the last mini-batch (linear in between)", 0.0,
                  1.0),
      float_param("pseudocount", 0.1,
                  "added to each distribution's counts in a mini-batch step, spread over its "
                  "entries (as pyjuice: a pixel's 256 values get pseudocount / 256 each)",
                  0.0),
      float_param("final_pseudocount", 0.01,
                  "the same for the full-batch step (256 on independent pixels: Laplace's +1)",
                  0.0),
      float_param("smoothing", 4.0,
                  "chow_liu: weight of the prior pulling each conditional toward the pixel's "
                  "marginal (pseudo-images)",
                  1e-9),
      int_param("mi_samples", 10000, "training images the mutual information is estimated on", 1.0),
      int_param("mi_bins", 16, "bins of pixel values for the mutual information", 1.0, 256.0),
      int_param("limit_train", 0, "use the first N training images (0: all)", 0.0),
      inherited(int_param("seed", 0,
                          "seed of the initial parameters and the batches (default: the spec's "
                          "seed)",
                          0.0)),
  };
  for (auto& spec : training::loop_params(/*log_every=*/10, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"data", datasets::ClassificationData::kType, "8-bit images (dataset.image)"}};
  op.output_type = CircuitModel::kType;
  op.run = run_train_pc;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::pc
