// train.rrcm: rRCM's fine-tuning (research notes certify.md §4.3) of a pre-trained rrcm encoder
// (train.rrcm_pretrain) into the base classifier of randomized smoothing at `sigma`, through the
// shared training loop: each image of a batch is copied m times, each copy gets its own Gaussian
// noise of std sigma in [0, 1] pixel space (the noise CERTIFY adds), the encoder classifies at
// the grid level nearest that noise, and the loss is the cross-entropy of every copy plus Jeong &
// Shin's consistency terms (lambda: KL of the copies to their mean, eta: the mean's entropy).
// The result is a `classifier.network` the certify ops certify unchanged, one forward per draw.
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
#include "ops/rrcm/consistency.h"
#include "ops/rrcm/encoder.h"
#include "ops/torch_runtime.h"
#include "ops/training/checkpoint_files.h"
#include "ops/training/ema.h"
#include "ops/training/epoch_order.h"
#include "ops/training/gaussian_augmentation.h"
#include "ops/training/loop.h"
#include "ops/training/lr_schedule.h"

namespace flowlab::ops::rrcm {
namespace {

using datasets::ClassificationData;
namespace fs = std::filesystem;

class FinetuneTrainer : public training::Trainer {
 public:
  FinetuneTrainer(const Params& p, std::shared_ptr<Classifier> model,
                  std::shared_ptr<const ClassificationData> data, torch::Device device)
      : model_(std::move(model)),
        data_(std::move(data)),
        device_(device),
        train_x_(data_->train_x.to(device)),
        train_y_(data_->train_y.to(device)),
        n_(train_x_.size(0)),
        batch_(p.get_int("batch_size")),
        epochs_(p.get_int("epochs")),
        copies_(p.get_int("copies")),
        warmup_(p.get_int("warmup_steps")),
        sigma_(p.get_float("sigma")),
        lambda_(p.get_float("consistency_weight")),
        eta_(p.get_float("entropy_weight")),
        base_lr_(p.get_float("lr")),
        order_(n_, seed(p) + 0x9e3779b97f4a7c15ULL),
        noise_gen_(at::detail::createCPUGenerator(seed(p) + 0x51ed270b27a1f3c5ULL)) {
    optimizer_ = std::make_unique<torch::optim::AdamW>(
        model_->net().parameters(),
        torch::optim::AdamWOptions(base_lr_).weight_decay(p.get_float("weight_decay")));
  }

  int64_t steps_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  double last_val_acc() const { return last_val_acc_; }
  double last_noisy_acc() const { return last_noisy_acc_; }

  training::StepResult step(int64_t step) override {
    const int64_t epoch = (step - 1) / steps_per_epoch() + 1, b = (step - 1) % steps_per_epoch();
    auto idx =
        order_.permutation(epoch, device_).slice(0, b * batch_, std::min(n_, (b + 1) * batch_));
    auto x = train_x_.index_select(0, idx), y = train_y_.index_select(0, idx);
    const int64_t batch = x.size(0);
    for (auto& group : optimizer_->param_groups())
      group.options().set_lr(
          base_lr_ * training::lr_factor("cosine", step, epochs_ * steps_per_epoch(), warmup_));
    // m copies [m * B, ...], copy-major, each with its own noise.
    auto noisy = training::add_gaussian_noise(x.repeat({copies_, 1, 1, 1}), sigma_, noise_gen_);
    auto logits = model_->forward(noisy);
    auto loss = torch::nn::functional::cross_entropy(logits, y.repeat({copies_}));
    if (copies_ > 1 && (lambda_ > 0 || eta_ > 0))
      loss = loss + consistency_regularizer(logits.view({copies_, batch, -1}), lambda_, eta_);
    const double value = loss.item<double>();
    if (std::isfinite(value)) {
      optimizer_->zero_grad();
      loss.backward();
      optimizer_->step();
    }
    steps_done_ = step;
    return {value, batch};
  }

  void on_epoch_end(OpContext& ctx, int64_t epoch) override {
    if (data_->val_x.size(0) == 0) return;
    auto [acc, vloss] = evaluate_split(*model_, data_->val_x, data_->val_y);
    ctx.log_metric("val_acc", acc, epoch);
    ctx.log_metric("val_loss", vloss, epoch);
    // Accuracy under one draw of the noise it is trained for (a fixed draw, so epochs compare).
    auto gen = at::detail::createCPUGenerator(0x853c49e6748fea9bULL);
    auto noisy = training::add_gaussian_noise(data_->val_x, sigma_, gen);
    auto [noisy_acc, noisy_loss] = evaluate_split(*model_, noisy, data_->val_y);
    ctx.log_metric("val_acc_noisy", noisy_acc, epoch);
    last_val_acc_ = acc, last_noisy_acc_ = noisy_acc;
  }

  std::string position(int64_t step) const override {
    return training::epoch_position(step, steps_per_epoch(), epochs_);
  }

  void save(const fs::path& dir) const override {
    training::save_module(dir / "model.pt", model_->net());
    training::save_optimizer(dir / "optimizer.pt", *optimizer_);
    training::save_tensor(dir / "order.pt",
                          order_.checkpoint_state(steps_done_, steps_per_epoch()));
    training::save_tensor(dir / "noise_generator.pt", noise_gen_.get_state());
    write_text_file(dir / "trainer.json", nlohmann::json{{"last_val_acc", last_val_acc_},
                                                         {"last_noisy_acc", last_noisy_acc_}}
                                              .dump());
  }

  void load(const fs::path& dir) override {
    training::load_module(dir / "model.pt", model_->net());
    training::load_optimizer(dir / "optimizer.pt", *optimizer_);
    order_.restore(training::load_tensor(dir / "order.pt"));
    noise_gen_.set_state(training::load_tensor(dir / "noise_generator.pt"));
    std::ifstream in(dir / "trainer.json");
    const auto j = nlohmann::json::parse(in);
    last_val_acc_ = j.at("last_val_acc"), last_noisy_acc_ = j.at("last_noisy_acc");
  }

 private:
  static uint64_t seed(const Params& p) { return static_cast<uint64_t>(p.get_int("seed")); }

  std::shared_ptr<Classifier> model_;
  std::shared_ptr<const ClassificationData> data_;
  torch::Device device_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  torch::Tensor train_x_, train_y_;
  int64_t n_, batch_, epochs_, copies_, warmup_;
  double sigma_, lambda_, eta_, base_lr_;
  training::EpochOrder order_;
  at::Generator noise_gen_;
  int64_t steps_done_ = 0;
  double last_val_acc_ = 0, last_noisy_acc_ = 0;
};

ArtifactPtr run_finetune(OpContext& ctx) {
  const Params& p = ctx.params();
  torch::Device device(resolve_device(p.get_string("device")));
  auto data = ctx.input<ClassificationData>("data");
  auto pretrained = ctx.input<Classifier>("encoder");
  if (data->train_x.size(0) == 0) throw RunError("the training split is empty");
  const Encoder& pretrained_encoder = encoder_of(*pretrained, "input 'encoder'");
  if (pretrained->record().input.shape != data->train_x.sizes().slice(1).vec())
    throw RunError("input 'encoder' was pre-trained on images of another shape than 'data' has");

  // The pre-trained architecture, now classifying at the level that matches sigma.
  ModelRecord record = pretrained->record();
  auto values = record.params.values();
  values["condition_sigma"] = p.get_float("sigma");
  record.params = Params(std::move(values));
  std::shared_ptr<Classifier> model;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(static_cast<uint64_t>(p.get_int("seed")));
    model = std::make_shared<Classifier>(record, pretrained->standardization(), ctx.registry());
  }
  training::copy_state(pretrained->net(), model->net());
  model->to_device(device.str());
  model->net().train();

  FinetuneTrainer trainer(p, model, data, device);
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps_per_epoch = trainer.steps_per_epoch();
  o.steps = p.get_int("epochs") * o.steps_per_epoch;
  o.label = "rrcm fine-tune";
  if (p.get_int("warmup_steps") >= o.steps)
    throw RunError(fmt::format("warmup_steps ({}) must be below the run's {} steps",
                               p.get_int("warmup_steps"), o.steps));
  o.hint = fmt::format("lr = {}; try a smaller params.lr", p.get_float("lr"));
  auto result = training::run_training(ctx, trainer, o);
  model->net().eval();
  ctx.log_metric("train_time_s", result.train_seconds);
  ctx.log_metric("final_val_acc", trainer.last_val_acc());  // clean, as train.classifier's
  ctx.log_metric("final_val_acc_noisy", trainer.last_noisy_acc());
  // After training, so that a resumed run logs them once too.
  ctx.log_metric("condition_level", encoder_of(*model, "the model").classification_level());
  ctx.log_metric("grid_points", double(pretrained_encoder.grid().size()));
  return model;
}

}  // namespace

void register_train_rrcm(Registry& r) {
  OpDef op;
  op.name = "train.rrcm";
  op.summary =
      "rRCM fine-tuning of a pre-trained rrcm encoder at a smoothing sigma: cross-entropy on m "
      "noisy copies + consistency (KL to their mean) + entropy of the mean";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"final_val_acc", "final_val_acc_noisy", "train_time_s"};
  op.params = {
      float_param("sigma", 0.25,
                  "noise std added to [0,1] pixels during fine-tuning: the sigma it will be "
                  "certified at (the encoder conditions on the grid level nearest it)",
                  0.0, 100.0, /*min_exclusive=*/true),
      int_param("copies", 2, "noisy copies of each image per step (m)", 1.0, 64.0),
      float_param("consistency_weight", 10.0,
                  "lambda: weight of the mean KL(mean prediction || copy's prediction) (the "
                  "reference: 10 at sigma 0.25, 20 at 0.5 and 1.0)",
                  0.0),
      float_param("entropy_weight", 0.5, "eta: weight of the entropy of the mean prediction", 0.0),
      float_param("lr", 1e-3, "AdamW learning rate (cosine schedule after the warmup)", 0.0, 10.0,
                  /*min_exclusive=*/true),
      int_param("warmup_steps", 100, "steps of linear learning-rate warmup", 0.0),
      float_param("weight_decay", 0.0, "AdamW decoupled weight decay (the reference: 0)", 0.0),
      int_param("epochs", 5, "passes over the training split", 1.0, 10000.0),
      int_param("batch_size", 128, "images per step (each copied `copies` times)", 1.0,
                1'000'000.0),
      inherited(int_param("seed", 0, "seed of shuffling and noise", 0.0)),
      inherited(string_param("device", "auto", "auto picks cuda when available",
                             {"auto", "cpu", "cuda"})),
  };
  for (auto& spec : training::loop_params(/*log_every=*/50, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"data", datasets::ClassificationData::kInterface, "training and validation splits"},
               {"encoder", Classifier::kType, "a pre-trained rrcm encoder (train.rrcm_pretrain)"}};
  op.output_type = Classifier::kType;
  op.run = run_finetune;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::rrcm
