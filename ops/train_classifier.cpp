// train.classifier: supervised training of a small image classifier (CNN or MLP) with
// mini-batch SGD or Adam on the `dataset` artifact's training split.
#include <chrono>
#include <cmath>
#include <fstream>

#include <torch/torch.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "datasets/classification_data.h"
#include "common/error.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/format.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"

namespace flowlab::ops {
namespace {

using Clock = std::chrono::steady_clock;
using datasets::ClassificationData;


// Accuracy and mean cross-entropy over a split, in batches, without gradients.
std::pair<double, double> evaluate_split(Classifier& model, const torch::Tensor& x,
                                         const torch::Tensor& y, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model.net().eval();
  int64_t correct = 0;
  double loss_sum = 0;
  for (int64_t start = 0; start < x.size(0); start += 1000) {
    auto xb = x.slice(0, start, start + 1000).to(device);
    auto yb = y.slice(0, start, start + 1000).to(device);
    auto logits = model.forward(xb);
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, yb, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
  }
  model.net().train();
  double n = static_cast<double>(std::max<int64_t>(x.size(0), 1));
  return {correct / n, loss_sum / n};
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Params& p, Classifier& model) {
  auto params = model.net().parameters();
  double lr = p.get_float("lr"), wd = p.get_float("weight_decay");
  if (p.get_string("optimizer") == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(lr).momentum(p.get_float("momentum")).weight_decay(wd));
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr).weight_decay(wd));
}

ArtifactPtr run_train_classifier(OpContext& ctx) {
  const Params& p = ctx.params();
  set_torch_threads(ctx.threads());
  torch::Device device(resolve_device(p.get_string("device")));
  auto data = ctx.input<ClassificationData>("data");
  if (data->train_x.size(0) == 0) throw RunError("the training split is empty");

  ClassifierConfig config;
  config.arch = p.get_string("model");
  config.width = p.get_int("width");
  config.channels = data->train_x.size(1);
  config.height = data->train_x.size(2);
  config.width_px = data->train_x.size(3);
  config.classes = data->num_classes();
  config.mean = data->mean;
  config.std = data->std;
  const std::string pixels = p.get_string("pixels");
  config.input_mask = pixels == "all" ? "all" : pixels == "checkerboard_odd" ? "odd" : "even";
  const uint64_t seed = static_cast<uint64_t>(p.get_int("seed"));
  std::shared_ptr<Classifier> model;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(seed);
    model = std::make_shared<Classifier>(config);
  }
  model->to_device(device.str());
  model->net().train();
  auto optimizer = make_optimizer(p, *model);

  auto train_x = data->train_x.to(device), train_y = data->train_y.to(device);
  const int64_t n = train_x.size(0), batch = p.get_int("batch_size");
  const int64_t epochs = p.get_int("epochs"), log_every = p.get_int("log_every");
  const int64_t steps_per_epoch = (n + batch - 1) / batch, total_steps = epochs * steps_per_epoch;
  // Shuffling draws from its own generator so it does not depend on other nodes' RNG use.
  auto shuffle_gen = at::detail::createCPUGenerator(seed + 0x9e3779b97f4a7c15ULL);
  // Gaussian data augmentation (Cohen et al.): noise in [0,1] pixel space, from its own generator.
  const double noise_sigma = p.get_float("noise_sigma");
  auto noise_gen = at::detail::createCPUGenerator(seed + 0x51ed270b27a1f3c5ULL);

  // Training state that a checkpoint carries. Checkpoints are taken right after a loss log or at
  // the end of an epoch, and restoring one replays the same batches in the same order, so a
  // killed and resumed run ends with the same weights as an uninterrupted one.
  struct State {
    int64_t epoch = 1, batch = 0, step = 0;  // next epoch / batch within it / steps done
    double window_loss = 0, last_val_acc = 0, seconds_before = 0;
    int64_t window_steps = 0, window_samples = 0;
    torch::Tensor epoch_gen_state;  // the shuffle generator at the start of `epoch`
  } st;
  const int64_t checkpoint_every = p.get_int("checkpoint_every");
  const double checkpoint_seconds = p.get_float("checkpoint_seconds");
  const bool checkpointing = checkpoint_every > 0 || checkpoint_seconds > 0;

  if (auto dir = ctx.restore_checkpoint()) {
    try {
      torch::serialize::InputArchive archive;
      archive.load_from((*dir / "model.pt").string());
      model->net().load(archive);
      torch::load(*optimizer, (*dir / "optimizer.pt").string());
      torch::load(st.epoch_gen_state, (*dir / "generator.pt").string());
      shuffle_gen.set_state(st.epoch_gen_state);
      torch::Tensor noise_state;
      torch::load(noise_state, (*dir / "noise_generator.pt").string());
      noise_gen.set_state(noise_state);
      std::ifstream in(*dir / "state.json");
      auto j = nlohmann::json::parse(in);
      st.epoch = j.at("epoch"), st.batch = j.at("batch"), st.step = j.at("step");
      st.window_loss = j.at("window_loss"), st.window_steps = j.at("window_steps");
      st.window_samples = j.at("window_samples"), st.last_val_acc = j.at("last_val_acc");
      st.seconds_before = j.at("seconds");
    } catch (const std::exception& e) {
      throw RunError(fmt::format("the checkpoint in {} is damaged ({}); run again with --no-cache "
                                 "to train from scratch", dir->string(), e.what()));
    }
    ctx.progress(static_cast<double>(st.step) / total_steps,
                 fmt::format("resumed from checkpoint at epoch {} step {}", st.epoch, st.step));
  }

  const auto start = Clock::now();
  auto last_checkpoint = start;
  int64_t last_checkpoint_step = st.step, steps_here = 0;
  auto save = [&](const torch::Tensor& gen_state) {
    ctx.save_checkpoint([&](const std::filesystem::path& dir) {
      torch::serialize::OutputArchive archive;
      model->net().save(archive);
      archive.save_to((dir / "model.pt").string());
      torch::save(*optimizer, (dir / "optimizer.pt").string());
      torch::save(gen_state, (dir / "generator.pt").string());
      torch::save(noise_gen.get_state(), (dir / "noise_generator.pt").string());
      nlohmann::json j = {{"epoch", st.epoch},
                          {"batch", st.batch},
                          {"step", st.step},
                          {"window_loss", st.window_loss},
                          {"window_steps", st.window_steps},
                          {"window_samples", st.window_samples},
                          {"last_val_acc", st.last_val_acc},
                          {"seconds", st.seconds_before + seconds_since(start)}};
      std::ofstream out(dir / "state.json");
      out << j.dump();
      out.close();
      if (!out) throw RunError("cannot write " + (dir / "state.json").string());
    });
    last_checkpoint = Clock::now();
    last_checkpoint_step = st.step;
  };

  auto window_start = start;
  for (; st.epoch <= epochs; ++st.epoch) {
    if (st.batch == 0) st.epoch_gen_state = shuffle_gen.get_state();
    else shuffle_gen.set_state(st.epoch_gen_state);  // resuming mid-epoch: the same permutation
    auto perm = torch::randperm(n, shuffle_gen, torch::kInt64).to(device);
    for (; st.batch < steps_per_epoch; ++st.batch) {
      ctx.check_cancelled();
      auto idx = perm.slice(0, st.batch * batch, std::min(n, (st.batch + 1) * batch));
      auto xb = train_x.index_select(0, idx), yb = train_y.index_select(0, idx);
      if (noise_sigma > 0)
        xb = xb + torch::randn(xb.sizes(), noise_gen, torch::TensorOptions().dtype(torch::kFloat32))
                      .to(device)
                      .mul_(noise_sigma);
      optimizer->zero_grad();
      auto loss = torch::nn::functional::cross_entropy(model->forward(xb), yb);
      double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value))
        throw RunError(fmt::format("loss became {} at epoch {} step {} (lr = {}); try a smaller "
                                   "params.lr", std::isnan(loss_value) ? "NaN" : "infinite",
                                   st.epoch, st.step + 1, p.get_float("lr")));
      loss.backward();
      optimizer->step();
      ++st.step, ++st.window_steps, ++steps_here;
      st.window_loss += loss_value;
      st.window_samples += idx.size(0);

      if (st.step % log_every == 0 || st.step == total_steps) {
        double elapsed = seconds_since(window_start);
        ctx.log_metric("loss", st.window_loss / st.window_steps, st.step);
        ctx.log_metric("samples_per_s", st.window_samples / std::max(elapsed, 1e-9), st.step);
        window_start = Clock::now(), st.window_loss = 0, st.window_steps = 0, st.window_samples = 0;
        bool due = (checkpoint_every > 0 && st.step - last_checkpoint_step >= checkpoint_every) ||
                   (checkpoint_seconds > 0 && seconds_since(last_checkpoint) >= checkpoint_seconds);
        if (due && st.batch + 1 < steps_per_epoch) {
          ++st.batch;  // the checkpoint resumes at the next batch
          save(st.epoch_gen_state);
          --st.batch;
        }
      }
      double spent = seconds_since(start);
      double eta = spent / steps_here * (total_steps - st.step);
      ctx.progress(static_cast<double>(st.step) / total_steps,
                   fmt::format("epoch {}/{} step {}/{} loss {:.4f} {:.0f} samples/s ETA {}",
                               st.epoch, epochs, st.batch + 1, steps_per_epoch, loss_value,
                               steps_here * batch / std::max(spent, 1e-9), format_duration(eta)));
    }
    if (data->val_x.size(0) > 0) {
      auto [acc, vloss] = evaluate_split(*model, data->val_x, data->val_y, device);
      ctx.log_metric("val_acc", acc, st.epoch);
      ctx.log_metric("val_loss", vloss, st.epoch);
      st.last_val_acc = acc;
    }
    st.batch = 0;
    if (checkpointing && st.epoch < epochs) {
      ++st.epoch;  // the checkpoint resumes at the start of the next epoch
      save(shuffle_gen.get_state());
      --st.epoch;
    }
  }
  const double last_val_acc = st.last_val_acc;
  const double train_seconds = st.seconds_before + seconds_since(start);
  model->net().eval();
  ctx.log_metric("train_time_s", train_seconds);
  ctx.log_metric("final_val_acc", last_val_acc);
  return model;
}

}  // namespace

void register_train_classifier(Registry& r) {
  OpDef op;
  op.name = "train.classifier";
  op.summary = "train a CNN or MLP image classifier with cross-entropy (Adam or SGD)";
  op.version = 2;  // 2: Gaussian augmentation and input masks
  op.params = {
      string_param("model", "cnn", "architecture: cnn (two 3x3 conv blocks + hidden layer) or mlp (two hidden layers)",
                   {"cnn", "mlp"}),
      int_param("width", 32, "channels of the first conv layer (cnn) or hidden units (mlp)", 1.0, 4096.0),
      string_param("optimizer", "adam", "optimizer", {"adam", "sgd"}),
      float_param("lr", 1e-3, "learning rate", 0.0, 10.0, /*min_exclusive=*/true),
      float_param("momentum", 0.9, "SGD momentum (ignored by adam)", 0.0, 1.0),
      float_param("weight_decay", 0.0, "L2 penalty", 0.0),
      string_param("pixels", "all",
                   "which pixels the network sees: all, or one checkerboard half (dual randomized "
                   "smoothing trains one model per half): odd = (i + j) odd, even = the rest",
                   {"all", "checkerboard_odd", "checkerboard_even"}),
      float_param("noise_sigma", 0.0,
                  "Gaussian data augmentation: noise std added to [0,1] pixels (0 = none); train "
                  "at the sigma you certify at", 0.0, 10.0),
      int_param("epochs", 3, "passes over the training split", 1.0, 10000.0),
      int_param("batch_size", 128, "examples per step", 1.0, 1'000'000.0),
      int_param("log_every", 50, "log mean loss and samples/s every this many steps", 1.0),
      not_in_key(int_param("checkpoint_every", 0,
                           "also checkpoint every this many steps (at a loss log; 0 = by time only)", 0.0)),
      not_in_key(float_param("checkpoint_seconds", 60.0,
                             "checkpoint at the first loss log this many seconds after the last one "
                             "(0 = by steps only); `flowlab resume` restarts from it", 0.0)),
      inherited(int_param("seed", 0, "seed of weight initialization and shuffling (default: the spec's seed)", 0.0)),
      inherited(string_param("device", "auto", "auto picks cuda when available (default: the spec's device)",
                             {"auto", "cpu", "cuda"})),
  };
  op.inputs = {{"data", datasets::ClassificationData::kType, "training and validation splits"}};
  op.output_type = Classifier::kType;
  op.run = run_train_classifier;
  r.add(std::move(op));
}

}  // namespace flowlab::ops
