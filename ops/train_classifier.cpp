// train.classifier: supervised training of any registered classifier architecture (ops/models/,
// chosen by `model`) with mini-batch SGD or Adam on an image dataset's training split, through the
// shared training loop (ops/training/loop.h).
#include <cmath>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/classification_data.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"
#include "ops/training/checkpoint_files.h"
#include "ops/training/epoch_order.h"
#include "ops/training/gaussian_augmentation.h"
#include "ops/training/loop.h"
#include "ops/training/lr_schedule.h"

namespace flowlab::ops {
namespace {

using datasets::ClassificationData;
namespace fs = std::filesystem;

// One optimizer param group per group the architecture asks for (lr capped, its own weight decay),
// and a default group with everything else, in the module's parameter order.
template <class Optimizer, class Options>
std::unique_ptr<torch::optim::Optimizer> grouped(Network& net, const Options& defaults) {
  const std::vector<ParameterGroup> special = net.parameter_groups();
  std::set<const void*> in_special;
  for (const auto& g : special)
    for (const auto& t : g.parameters) in_special.insert(t.unsafeGetTensorImpl());
  std::vector<torch::Tensor> rest;
  for (const auto& t : net.parameters())
    if (!in_special.count(t.unsafeGetTensorImpl())) rest.push_back(t);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(rest);
  for (const auto& g : special) {
    auto options = std::make_unique<Options>(defaults);
    options->lr(std::min(g.max_lr, defaults.lr()));
    options->weight_decay(g.weight_decay);
    groups.emplace_back(g.parameters, std::move(options));
  }
  return std::make_unique<Optimizer>(std::move(groups), defaults);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Params& p, Classifier& model) {
  Network& net = *model.net().layers;
  const double lr = p.get_float("lr"), wd = p.get_float("weight_decay");
  const std::string name = p.get_string("optimizer");
  if (name == "sgd")
    return grouped<torch::optim::SGD>(
        net, torch::optim::SGDOptions(lr).momentum(p.get_float("momentum")).weight_decay(wd));
  if (name == "adamw")
    return grouped<torch::optim::AdamW>(net, torch::optim::AdamWOptions(lr).weight_decay(wd));
  return grouped<torch::optim::Adam>(net, torch::optim::AdamOptions(lr).weight_decay(wd));
}

// Mini-batch training: a fresh permutation each epoch (from its own generator, so shuffling does
// not depend on other nodes' RNG use), optional Gaussian augmentation (Cohen et al.: noise in
// [0,1] pixel space, from a generator of its own), validation at the end of each epoch.
class ClassifierTrainer : public training::Trainer {
 public:
  ClassifierTrainer(const Params& p, std::shared_ptr<Classifier> model,
                    std::shared_ptr<const ClassificationData> data, torch::Device device)
      : model_(std::move(model)),
        data_(std::move(data)),
        device_(device),
        optimizer_(make_optimizer(p, *model_)),
        train_x_(data_->train_x.to(device)),
        train_y_(data_->train_y.to(device)),
        n_(train_x_.size(0)),
        batch_(p.get_int("batch_size")),
        epochs_(p.get_int("epochs")),
        schedule_(p.get_string("lr_schedule")),
        warmup_(p.get_int("warmup_steps")),
        noise_sigma_(p.get_float("noise_sigma")),
        order_(n_, seed(p) + 0x9e3779b97f4a7c15ULL),
        noise_gen_(at::detail::createCPUGenerator(seed(p) + 0x51ed270b27a1f3c5ULL)) {
    for (const auto& group : optimizer_->param_groups())
      base_lrs_.push_back(group.options().get_lr());
  }

  int64_t steps_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  double last_val_acc() const { return last_val_acc_; }

  training::StepResult step(int64_t step) override {
    const int64_t epoch = (step - 1) / steps_per_epoch() + 1, b = (step - 1) % steps_per_epoch();
    auto idx =
        order_.permutation(epoch, device_).slice(0, b * batch_, std::min(n_, (b + 1) * batch_));
    auto xb = train_x_.index_select(0, idx), yb = train_y_.index_select(0, idx);
    if (noise_sigma_ > 0) xb = training::add_gaussian_noise(xb, noise_sigma_, noise_gen_);
    const double factor =
        training::lr_factor(schedule_, step, epochs_ * steps_per_epoch(), warmup_);
    auto& groups = optimizer_->param_groups();
    for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(base_lrs_[g] * factor);
    optimizer_->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model_->forward(xb), yb);
    const double value = loss.item<double>();
    if (std::isfinite(value)) {  // the loop reports a non-finite loss
      loss.backward();
      optimizer_->step();
    }
    steps_done_ = step;
    return {value, idx.size(0)};
  }

  void on_epoch_end(OpContext& ctx, int64_t epoch) override {
    if (data_->val_x.size(0) == 0) return;
    auto [acc, vloss] = evaluate_split(*model_, data_->val_x, data_->val_y);
    ctx.log_metric("val_acc", acc, epoch);
    ctx.log_metric("val_loss", vloss, epoch);
    last_val_acc_ = acc;
  }

  std::string position(int64_t step) const override {
    return training::epoch_position(step, steps_per_epoch(), epochs_);
  }

  void save(const fs::path& dir) const override {
    training::save_module(dir / "model.pt", model_->net());
    training::save_optimizer(dir / "optimizer.pt", *optimizer_);
    training::save_tensor(dir / "generator.pt",
                          order_.checkpoint_state(steps_done_, steps_per_epoch()));
    training::save_tensor(dir / "noise_generator.pt", noise_gen_.get_state());
    write_text_file(dir / "trainer.json", nlohmann::json{{"last_val_acc", last_val_acc_}}.dump());
  }

  void load(const fs::path& dir) override {
    training::load_module(dir / "model.pt", model_->net());
    training::load_optimizer(dir / "optimizer.pt", *optimizer_);
    order_.restore(training::load_tensor(dir / "generator.pt"));
    noise_gen_.set_state(training::load_tensor(dir / "noise_generator.pt"));
    std::ifstream in(dir / "trainer.json");
    last_val_acc_ = nlohmann::json::parse(in).at("last_val_acc");
  }

 private:
  static uint64_t seed(const Params& p) { return static_cast<uint64_t>(p.get_int("seed")); }

  std::shared_ptr<Classifier> model_;
  std::shared_ptr<const ClassificationData> data_;
  torch::Device device_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor train_x_, train_y_;
  int64_t n_, batch_, epochs_;
  std::string schedule_;
  int64_t warmup_;
  std::vector<double> base_lrs_;  // each param group's rate before the schedule's factor
  double noise_sigma_;
  training::EpochOrder order_;
  at::Generator noise_gen_;
  int64_t steps_done_ = 0;
  double last_val_acc_ = 0;
};

ArtifactPtr run_train_classifier(OpContext& ctx) {
  const Params& p = ctx.params();
  torch::Device device(resolve_device(p.get_string("device")));
  auto data = ctx.input<ClassificationData>("data");
  if (data->train_x.size(0) == 0) throw RunError("the training split is empty");

  ModelRecord record = classifier_record(ctx.registry(), p, *data);
  if (data->vocab_size > 0 && p.get_float("noise_sigma") > 0)
    throw RunError("noise_sigma: token sequences cannot take Gaussian noise; set it to 0");
  Standardization standardization{data->mean, data->std, "all"};
  const std::string pixels = p.get_string("pixels");
  if (pixels != "all") standardization.input_mask = pixels == "checkerboard_odd" ? "odd" : "even";
  std::shared_ptr<Classifier> model;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(static_cast<uint64_t>(p.get_int("seed")));
    model = std::make_shared<Classifier>(record, standardization, ctx.registry());
  }
  model->to_device(device.str());
  model->net().train();

  ClassifierTrainer trainer(p, model, data, device);
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps_per_epoch = trainer.steps_per_epoch();
  o.steps = p.get_int("epochs") * o.steps_per_epoch;
  if (p.get_int("warmup_steps") >= o.steps)
    throw RunError(
        fmt::format("warmup_steps ({}) must be below the run's {} steps ({} epochs of {})",
                    p.get_int("warmup_steps"), o.steps, p.get_int("epochs"), o.steps_per_epoch));
  o.hint = fmt::format("lr = {}; try a smaller params.lr", p.get_float("lr"));
  auto result = training::run_training(ctx, trainer, o);
  model->net().eval();
  ctx.log_metric("train_time_s", result.train_seconds);
  ctx.log_metric("final_val_acc", trainer.last_val_acc());
  for (const auto& [name, value] : model->net().layers->init_metrics())
    ctx.log_metric("init/" + name, value);
  return model;
}

}  // namespace

void register_train_classifier(Registry& r) {
  OpDef op;
  op.name = "train.classifier";
  op.summary = "train any registered classifier architecture with cross-entropy (Adam or SGD)";
  op.version = 3;  // 3: registered architectures, the shared training loop
  op.threads = 2;
  op.headline_metrics = {"final_val_acc", "train_time_s"};
  op.params = {
      group_param("model", "classifier", "cnn",
                  "architecture (its params, e.g. width, are set beside it; `flowlab models` lists "
                  "them)"),
      string_param("optimizer", "adam",
                   "adam (weight_decay is an L2 penalty), adamw (decoupled weight decay) or sgd",
                   {"adam", "adamw", "sgd"}),
      float_param("lr", 1e-3, "learning rate", 0.0, 10.0, /*min_exclusive=*/true),
      string_param("lr_schedule", "constant",
                   "constant, or cosine: annealed to zero over the run (the S4D reference recipe); "
                   "both after warmup_steps of linear warmup",
                   {"constant", "cosine"}),
      int_param("warmup_steps", 0, "steps of linear learning-rate warmup from zero", 0.0),
      float_param("momentum", 0.9, "SGD momentum (ignored by adam)", 0.0, 1.0),
      float_param("weight_decay", 0.0,
                  "weight decay (architectures may exempt some parameters, e.g. an SSM's A and dt)",
                  0.0),
      string_param("pixels", "all",
                   "which pixels the network sees: all, or one checkerboard half (dual randomized "
                   "smoothing trains one model per half): odd = (i + j) odd, even = the rest",
                   {"all", "checkerboard_odd", "checkerboard_even"}),
      float_param("noise_sigma", 0.0,
                  "Gaussian data augmentation: noise std added to [0,1] pixels (0 = none); train "
                  "at the sigma you certify at",
                  0.0, 10.0),
      int_param("epochs", 3, "passes over the training split", 1.0, 10000.0),
      int_param("batch_size", 128, "examples per step", 1.0, 1'000'000.0),
      inherited(int_param("seed", 0,
                          "seed of weight initialization and shuffling (default: the spec's seed)",
                          0.0)),
      inherited(string_param("device", "auto",
                             "auto picks cuda when available (default: the spec's device)",
                             {"auto", "cpu", "cuda"})),
  };
  for (auto& spec : training::loop_params(/*log_every=*/50, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"data", datasets::ClassificationData::kInterface,
                "training and validation splits (images or sequences)"}};
  op.output_type = Classifier::kType;
  op.run = run_train_classifier;
  r.add(std::move(op));
}

}  // namespace flowlab::ops
