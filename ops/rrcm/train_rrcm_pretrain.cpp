// train.rrcm_pretrain: rRCM's contrastive pre-training of the noise-conditioned encoder (research
// notes certify.md §4.2, scaled down as §5.3), through the shared training loop. Per batch of
// clean images x, one shared noise draw eps ~ N(0, I) (in the network's standardized input units):
//   instance discrimination at the clean end: the online projection of view 1 + t_min eps against
//     the EMA target's projection of view 2 + t_min eps (two random resized crops and flips),
//     InfoNCE;
//   trajectory consistency: one grid index k for the batch, the online representation h of
//     x + t_k eps (conditioned on t_k) against the stop-gradient online representation of the
//     adjacent, less noisy point x + t_(k+1) eps of the same trajectory, InfoNCE.
// (Both as the reference's rRCMloss: the projector serves only the first.)
// `objective` picks both (rrcm), or one of them for the ablations. The Karras grid grows from
// grid_start points to the model's grid_points by doublings over the run, and the EMA rate rises
// from ema_start to ema_end as sqrt(s (end^2 - start^2) + start^2), both as the reference's
// schedules.
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/classification_data.h"
#include "ops/classifier_net.h"
#include "ops/register.h"
#include "ops/rrcm/augment.h"
#include "ops/rrcm/contrastive.h"
#include "ops/rrcm/encoder.h"
#include "ops/torch_runtime.h"
#include "ops/training/checkpoint_files.h"
#include "ops/training/ema.h"
#include "ops/training/epoch_order.h"
#include "ops/training/loop.h"
#include "ops/training/lr_schedule.h"

namespace flowlab::ops::rrcm {
namespace {

using datasets::ClassificationData;
namespace fs = std::filesystem;

/// Grid size at step `step` of `total`: grid_start doubled every total / (doublings + 1) steps,
/// capped at grid_end (the reference's "icm" schedule, without its + 1).
int64_t grid_size_at(int64_t step, int64_t total, int64_t grid_start, int64_t grid_end) {
  int64_t doublings = 0;
  while ((grid_start << doublings) < grid_end) ++doublings;
  const int64_t stage = (total + doublings) / (doublings + 1);  // steps per grid size
  return std::min(grid_end, grid_start << std::min<int64_t>((step - 1) / stage, doublings));
}

class PretrainTrainer : public training::Trainer {
 public:
  PretrainTrainer(const Params& p, std::shared_ptr<Classifier> online,
                  std::shared_ptr<Classifier> target,
                  std::shared_ptr<const ClassificationData> data, torch::Device device)
      : online_(std::move(online)),
        target_(std::move(target)),
        encoder_(encoder_of(*online_, "train.rrcm_pretrain's model")),
        target_encoder_(encoder_of(*target_, "train.rrcm_pretrain's model")),
        data_(std::move(data)),
        device_(device),
        train_x_(data_->train_x.to(device)),
        n_(train_x_.size(0)),
        batch_(p.get_int("batch_size")),
        epochs_(p.get_int("epochs")),
        objective_(p.get_string("objective")),
        temperature_(p.get_float("temperature")),
        ema_start_(p.get_float("ema_start")),
        ema_end_(p.get_float("ema_end")),
        grid_start_(p.get_int("grid_start")),
        warmup_(p.get_int("warmup_steps")),
        order_(n_, seed(p) + 0x9e3779b97f4a7c15ULL),
        view_gen_(at::detail::createCPUGenerator(seed(p) + 0x2545f4914f6cdd1dULL)),
        noise_gen_(at::detail::createCPUGenerator(seed(p) + 0x51ed270b27a1f3c5ULL)) {
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        online_->net().parameters(),
        torch::optim::AdamWOptions(p.get_float("lr")).weight_decay(p.get_float("weight_decay")));
    base_lr_ = p.get_float("lr");
    const auto& rp = online_->record().params;
    grid_end_ = rp.get_int("grid_points");
    t_min_ = rp.get_float("t_min"), t_max_ = rp.get_float("t_max"), rho_ = rp.get_float("rho");
    if (grid_start_ > grid_end_)
      throw RunError(fmt::format("grid_start ({}) must not exceed the model's grid_points ({})",
                                 grid_start_, grid_end_));
  }

  int64_t steps_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  int64_t total_steps() const { return epochs_ * steps_per_epoch(); }

  training::StepResult step(int64_t step) override {
    const int64_t epoch = (step - 1) / steps_per_epoch() + 1, b = (step - 1) % steps_per_epoch();
    auto idx =
        order_.permutation(epoch, device_).slice(0, b * batch_, std::min(n_, (b + 1) * batch_));
    auto x = train_x_.index_select(0, idx);
    auto& net = online_->net();
    const double factor = training::lr_factor("cosine", step, total_steps(), warmup_);
    for (auto& group : optimizer_->param_groups()) group.options().set_lr(base_lr_ * factor);

    // One noise draw per image, shared by every view and level (as the reference).
    auto eps = at::randn(x.sizes(), noise_gen_, at::TensorOptions().dtype(at::kFloat)).to(device_);
    torch::Tensor instance, trajectory;
    if (objective_ != "trajectory") instance = instance_loss(x, eps);
    if (objective_ != "instance") trajectory = trajectory_loss(x, eps, step);
    auto loss = instance.defined() && trajectory.defined() ? instance + trajectory
                : instance.defined()                       ? instance
                                                           : trajectory;
    const double value = loss.item<double>();
    if (std::isfinite(value)) {
      optimizer_->zero_grad();
      loss.backward();
      optimizer_->step();
      training::ema_update(net, target_->net(), ema_rate(step));
    }
    window_instance_ += instance.defined() ? instance.item<double>() : 0.0;
    window_trajectory_ += trajectory.defined() ? trajectory.item<double>() : 0.0;
    ++window_steps_;
    steps_done_ = step;
    return {value, idx.size(0)};
  }

  void on_log(OpContext& ctx, int64_t step) override {
    if (window_steps_ == 0) return;
    if (objective_ != "trajectory")
      ctx.log_metric("loss_instance", window_instance_ / window_steps_, step);
    if (objective_ != "instance")
      ctx.log_metric("loss_trajectory", window_trajectory_ / window_steps_, step);
    ctx.log_metric("grid_points", double(grid_size_at(step, total_steps(), grid_start_, grid_end_)),
                   step);
    ctx.log_metric("ema_rate", ema_rate(step), step);
    window_instance_ = window_trajectory_ = 0;
    window_steps_ = 0;
  }

  std::string position(int64_t step) const override {
    return training::epoch_position(step, steps_per_epoch(), epochs_);
  }

  void save(const fs::path& dir) const override {
    training::save_module(dir / "online.pt", online_->net());
    training::save_module(dir / "target.pt", target_->net());
    training::save_optimizer(dir / "optimizer.pt", *optimizer_);
    training::save_tensor(dir / "order.pt",
                          order_.checkpoint_state(steps_done_, steps_per_epoch()));
    training::save_tensor(dir / "view_generator.pt", view_gen_.get_state());
    training::save_tensor(dir / "noise_generator.pt", noise_gen_.get_state());
  }

  void load(const fs::path& dir) override {
    training::load_module(dir / "online.pt", online_->net());
    training::load_module(dir / "target.pt", target_->net());
    training::load_optimizer(dir / "optimizer.pt", *optimizer_);
    order_.restore(training::load_tensor(dir / "order.pt"));
    view_gen_.set_state(training::load_tensor(dir / "view_generator.pt"));
    noise_gen_.set_state(training::load_tensor(dir / "noise_generator.pt"));
  }

 private:
  static uint64_t seed(const Params& p) { return static_cast<uint64_t>(p.get_int("seed")); }

  // The reference's ramp: sqrt(s (end^2 - start^2) + start^2) at the fraction s of the run.
  double ema_rate(int64_t step) const {
    const double s = double(step) / double(total_steps());
    return std::sqrt(s * (ema_end_ * ema_end_ - ema_start_ * ema_start_) + ema_start_ * ema_start_);
  }

  torch::Tensor levels(double t, int64_t n) const {
    return torch::full({n}, t, torch::TensorOptions().dtype(torch::kFloat).device(device_));
  }

  // Instance discrimination at t_min: the online projection of view 1 against the EMA target's
  // projection of view 2 (one direction per step, as the reference's rRCMloss).
  torch::Tensor instance_loss(const torch::Tensor& x, const torch::Tensor& eps) {
    auto& net = online_->net();
    auto v1 = net.standardize(random_resized_crop_flip(x, view_gen_)) + t_min_ * eps;
    auto v2 = net.standardize(random_resized_crop_flip(x, view_gen_)) + t_min_ * eps;
    const auto t = levels(t_min_, x.size(0));
    auto query = encoder_.project(encoder_.represent(v1, t));
    torch::Tensor key;
    {
      torch::NoGradGuard no_grad;
      key = target_encoder_.project(target_encoder_.represent(v2, t));
    }
    return info_nce(query, key, temperature_);
  }

  // Consistency of adjacent points x + t_k eps, x + t_(k+1) eps on one trajectory (flipped view).
  torch::Tensor trajectory_loss(const torch::Tensor& x, const torch::Tensor& eps, int64_t step) {
    auto& net = online_->net();
    const auto grid = karras_grid(grid_size_at(step, total_steps(), grid_start_, grid_end_), t_min_,
                                  t_max_, rho_);
    const int64_t k = at::randint(int64_t(grid.size()) - 1, {1}, noise_gen_).item<int64_t>();
    auto flip = at::rand({x.size(0)}, view_gen_).lt(0.5).to(device_).view({-1, 1, 1, 1});
    auto clean = net.standardize(torch::where(flip, x.flip({3}), x));
    auto q =
        encoder_.project(encoder_.represent(clean + grid[k] * eps, levels(grid[k], x.size(0))));
    torch::Tensor key;
    {
      torch::NoGradGuard no_grad;
      key = encoder_.project(
          encoder_.represent(clean + grid[k + 1] * eps, levels(grid[k + 1], x.size(0))));
    }
    return info_nce(q, key, temperature_);
  }

  std::shared_ptr<Classifier> online_, target_;
  Encoder &encoder_, &target_encoder_;
  std::shared_ptr<const ClassificationData> data_;
  torch::Device device_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  torch::Tensor train_x_;
  int64_t n_, batch_, epochs_;
  std::string objective_;
  double temperature_, ema_start_, ema_end_;
  int64_t grid_start_, grid_end_ = 0, warmup_;
  double t_min_ = 0, t_max_ = 0, rho_ = 0, base_lr_ = 0;
  training::EpochOrder order_;
  at::Generator view_gen_, noise_gen_;
  int64_t steps_done_ = 0;
  double window_instance_ = 0, window_trajectory_ = 0;
  int64_t window_steps_ = 0;
};

ArtifactPtr run_pretrain(OpContext& ctx) {
  const Params& p = ctx.params();
  torch::Device device(resolve_device(p.get_string("device")));
  auto data = ctx.input<ClassificationData>("data");
  if (data->train_x.size(0) < 2) throw RunError("InfoNCE needs at least two training images");
  if (data->vocab_size > 0) throw RunError("train.rrcm_pretrain needs images, not token sequences");
  ModelRecord record = classifier_record(ctx.registry(), p, *data);
  if (record.arch != "rrcm")
    throw RunError(
        fmt::format("train.rrcm_pretrain trains the rrcm architecture (model: rrcm), "
                    "got model: {}",
                    record.arch));
  Standardization standardization{data->mean, data->std, "all"};
  std::shared_ptr<Classifier> online, target;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(static_cast<uint64_t>(p.get_int("seed")));
    online = std::make_shared<Classifier>(record, standardization, ctx.registry());
    target = std::make_shared<Classifier>(record, standardization, ctx.registry());
  }
  online->to_device(device.str());
  target->to_device(device.str());
  if (p.get_string("objective") == "none") {  // the ablation without pre-training
    online->net().eval();
    ctx.log_metric("train_time_s", 0.0);
    return online;
  }
  training::copy_state(online->net(), target->net());
  online->net().train();
  target->net().train();  // batch norm in the projector: batch statistics, as the online network

  PretrainTrainer trainer(p, online, target, data, device);
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps_per_epoch = trainer.steps_per_epoch();
  o.steps = trainer.total_steps();
  o.label = "rrcm pretrain";
  if (p.get_int("warmup_steps") >= o.steps)
    throw RunError(fmt::format("warmup_steps ({}) must be below the run's {} steps",
                               p.get_int("warmup_steps"), o.steps));
  o.hint = fmt::format("lr = {}; try a smaller params.lr", p.get_float("lr"));
  auto result = training::run_training(ctx, trainer, o);
  online->net().eval();
  ctx.log_metric("train_time_s", result.train_seconds);
  return online;
}

}  // namespace

void register_train_rrcm_pretrain(Registry& r) {
  OpDef op;
  op.name = "train.rrcm_pretrain";
  op.summary =
      "rRCM contrastive pre-training of the noise-conditioned encoder (instance discrimination "
      "with an EMA target + trajectory consistency on a Karras grid)";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"loss", "train_time_s"};
  op.params = {
      group_param("model", "classifier", "rrcm", "architecture: rrcm (its params set beside it)"),
      string_param("objective", "rrcm",
                   "rrcm: both InfoNCE losses; instance: instance discrimination only (the "
                   "ablation); trajectory: trajectory consistency only; none: no pre-training "
                   "(the freshly initialized encoder, for fine-tuning from scratch)",
                   {"rrcm", "instance", "trajectory", "none"}),
      float_param("temperature", 0.2, "InfoNCE temperature (the reference: 0.2)", 0.0, 100.0,
                  /*min_exclusive=*/true),
      float_param("ema_start", 0.99, "EMA rate of the target network at the start", 0.0, 1.0),
      float_param("ema_end", 0.999, "EMA rate at the end of the run", 0.0, 1.0),
      int_param("grid_start", 10,
                "Karras grid points at the start; doubled in equal stages up to the model's "
                "grid_points",
                2.0, 100000.0),
      float_param("lr", 1e-3, "AdamW learning rate (cosine schedule after the warmup)", 0.0, 10.0,
                  /*min_exclusive=*/true),
      int_param("warmup_steps", 100, "steps of linear learning-rate warmup", 0.0),
      float_param("weight_decay", 0.0, "AdamW decoupled weight decay (the reference: 0)", 0.0),
      int_param("epochs", 5, "passes over the training split", 1.0, 10000.0),
      int_param("batch_size", 256, "images per step (InfoNCE's negatives: the rest of the batch)",
                2.0, 1'000'000.0),
      inherited(int_param("seed", 0, "seed of initialization, shuffling, views and noise", 0.0)),
      inherited(string_param("device", "auto", "auto picks cuda when available",
                             {"auto", "cpu", "cuda"})),
  };
  for (auto& spec : training::loop_params(/*log_every=*/50, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"data", datasets::ClassificationData::kInterface, "training images"}};
  op.output_type = Classifier::kType;
  op.run = run_pretrain;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::rrcm
