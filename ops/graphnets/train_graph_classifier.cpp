// train.graph_classifier: trains a graph classifier (a registered architecture of family "graph":
// spen, ign, gin) as the SPEN reference trainer does: AdamW, cross-entropy, the learning rate
// decayed by a factor every few epochs (StepLR), mini-batches of whole graphs joined
// block-diagonally, validation accuracy after every epoch, and the weights of the best
// validation epoch as the result. Runs through the shared training loop (checkpoints, resume,
// progress, the NaN check); shuffling and dropout draw from generators of their own, so a resumed
// training ends exactly where an uninterrupted one does.
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/graph_dataset.h"
#include "ops/graphnets/graph_models.h"
#include "ops/graphnets/graph_network.h"
#include "ops/models/saved_model.h"
#include "ops/torch_runtime.h"
#include "ops/training/best_epoch.h"
#include "ops/training/checkpoint_files.h"
#include "ops/training/epoch_order.h"
#include "ops/training/loop.h"

namespace flowlab::ops::graphnets {
namespace {

using datasets::GraphDataset;
namespace fs = std::filesystem;

std::vector<std::shared_ptr<const EncodedGraph>> encode_all(
    GraphNetwork& net, const std::vector<datasets::Graph>& gs) {
  std::vector<std::shared_ptr<const EncodedGraph>> out;
  out.reserve(gs.size());
  for (const auto& g : gs) out.push_back(net.encode(g));
  return out;
}

class GraphTrainer : public training::Trainer {
 public:
  GraphTrainer(const Params& p, GraphNetwork& net, const GraphDataset& data, torch::Device device)
      : net_(net),
        device_(device),
        train_(encode_all(net, data.train)),
        valid_(encode_all(net, data.valid)),
        optimizer_(net.parameters(), torch::optim::AdamWOptions(p.get_float("lr"))
                                         .weight_decay(p.get_float("weight_decay"))),
        lr_(p.get_float("lr")),
        decay_(p.get_float("lr_decay")),
        decay_every_(p.get_int("decay_every")),
        n_(static_cast<int64_t>(train_.size())),
        batch_(p.get_int("batch_size")),
        epochs_(p.get_int("epochs")),
        order_(n_, static_cast<uint64_t>(p.get_int("seed")) + 0x9e3779b97f4a7c15ULL),
        dropout_(at::detail::createCPUGenerator(static_cast<uint64_t>(p.get_int("seed")) ^
                                                0x5bd1e995ULL)) {
    net_.set_dropout_generator(dropout_);
  }

  int64_t steps_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  const training::BestEpoch& best() const { return best_; }
  const std::vector<std::shared_ptr<const EncodedGraph>>& train_graphs() const { return train_; }

  training::StepResult step(int64_t step) override {
    const int64_t epoch = (step - 1) / steps_per_epoch() + 1, b = (step - 1) % steps_per_epoch();
    // StepLR: the rate falls by lr_decay after every decay_every epochs.
    optimizer_.param_groups()[0].options().set_lr(
        lr_ * std::pow(decay_, static_cast<double>((epoch - 1) / decay_every_)));
    const auto ids = order_.permutation(epoch, torch::kCPU)
                         .slice(0, b * batch_, std::min(n_, (b + 1) * batch_))
                         .contiguous();
    std::vector<const EncodedGraph*> batch;
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < ids.size(0); ++i) {
      const auto& g = *train_[static_cast<size_t>(ids[i].item<int64_t>())];
      batch.push_back(&g), labels.push_back(g.label);
    }
    optimizer_.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(net_.forward_graphs(batch),
                                                           torch::tensor(labels).to(device_));
    const double value = loss.item<double>();
    if (std::isfinite(value)) {
      loss.backward();
      optimizer_.step();
    }
    steps_done_ = step;
    return {value, static_cast<int64_t>(batch.size())};
  }

  void on_epoch_end(OpContext& ctx, int64_t epoch) override {
    if (valid_.empty()) return best_.take_last(epoch);
    net_.eval();
    int64_t correct = 0;
    double loss = 0;
    {
      torch::NoGradGuard no_grad;
      for (size_t start = 0; start < valid_.size(); start += 64) {
        std::vector<const EncodedGraph*> batch;
        std::vector<int64_t> labels;
        for (size_t i = start; i < std::min(valid_.size(), start + 64); ++i)
          batch.push_back(valid_[i].get()), labels.push_back(valid_[i]->label);
        const auto logits = net_.forward_graphs(batch).to(torch::kCPU);
        const auto y = torch::tensor(labels);
        loss +=
            torch::nn::functional::cross_entropy(
                logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                .item<double>();
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
      }
    }
    net_.train();
    const double acc = static_cast<double>(correct) / static_cast<double>(valid_.size());
    ctx.log_metric("val_acc", acc, epoch);
    ctx.log_metric("val_loss", loss / static_cast<double>(valid_.size()), epoch);
    best_.offer(acc, epoch, net_.parameters());
  }

  /// Puts the best validation epoch's weights into the network.
  void restore_best() { best_.restore(net_.parameters()); }

  std::string position(int64_t step) const override {
    return training::epoch_position(step, steps_per_epoch(), epochs_);
  }

  void save(const fs::path& dir) const override {
    training::save_module(dir / "model.pt", net_);
    training::save_optimizer(dir / "optimizer.pt", optimizer_);
    training::save_tensor(dir / "generator.pt",
                          order_.checkpoint_state(steps_done_, steps_per_epoch()));
    training::save_tensor(dir / "dropout_generator.pt", dropout_.get_state());
    best_.save(dir);
  }

  void load(const fs::path& dir) override {
    training::load_module(dir / "model.pt", net_);
    training::load_optimizer(dir / "optimizer.pt", optimizer_);
    order_.restore(training::load_tensor(dir / "generator.pt"));
    dropout_.set_state(training::load_tensor(dir / "dropout_generator.pt"));
    best_.load(dir, device_);
  }

 private:
  GraphNetwork& net_;
  torch::Device device_;
  std::vector<std::shared_ptr<const EncodedGraph>> train_, valid_;
  torch::optim::AdamW optimizer_;
  double lr_, decay_;
  int64_t decay_every_, n_, batch_, epochs_;
  training::EpochOrder order_;
  at::Generator dropout_;
  training::BestEpoch best_;
  int64_t steps_done_ = 0;
};

ArtifactPtr run_train_graph_classifier(OpContext& ctx) {
  const Params& p = ctx.params();
  const torch::Device device(resolve_device(p.get_string("device")));
  auto data = ctx.input<GraphDataset>("data");
  if (data->train.empty()) throw RunError("the dataset has no training graphs");

  auto model = std::make_shared<GraphModel>();
  model->record.family = "graph";
  model->record.arch = p.get_string("model");
  model->record.params = model_params(ctx.registry(), "graph", model->record.arch, p);
  model->record.input.shape = {data->node_label_count};
  model->record.input.outputs = static_cast<int64_t>(data->class_names.size());
  model->class_names = data->class_names;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(static_cast<uint64_t>(p.get_int("seed")));
    model->network = std::dynamic_pointer_cast<GraphNetwork>(model->record.build(ctx.registry()));
  }
  if (!model->network)
    throw RunError("model '" + model->record.arch + "' is not a graph classifier");
  model->network->to(device);
  model->network->train();

  GraphTrainer trainer(p, *model->network, *data, device);
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps_per_epoch = trainer.steps_per_epoch();
  o.steps = p.get_int("epochs") * o.steps_per_epoch;
  o.label = model->record.arch;
  o.hint = fmt::format("lr = {}; try a smaller params.lr", p.get_float("lr"));
  const auto result = training::run_training(ctx, trainer, o);
  // What one layer's activations cost per channel: Σ_v m_v² entries for SPEN (n² for the global
  // 2-IGN, n for GIN), against the n² of a dense 2-tensor.
  double entries = 0, dense = 0;
  for (size_t i = 0; i < data->train.size(); ++i) {
    entries += static_cast<double>(model->network->layer_entries(*trainer.train_graphs()[i]));
    dense += static_cast<double>(data->train[i].nodes) * data->train[i].nodes;
  }
  const auto n = static_cast<double>(data->train.size());

  ctx.log_metric("layer_entries_per_graph", entries / n);
  ctx.log_metric("dense_entries_per_graph", dense / n);
  trainer.restore_best();
  model->network->eval();
  model->best_epoch = trainer.best().epoch();
  ctx.log_metric("train_time_s", result.train_seconds);
  ctx.log_metric("best_epoch", static_cast<double>(trainer.best().epoch()));
  if (trainer.best().scored()) ctx.log_metric("best_val_acc", trainer.best().score());
  return model;
}

}  // namespace

void register_train_graph_classifier(Registry& r) {
  OpDef op;
  op.name = "train.graph_classifier";
  op.summary =
      "train a graph classifier (spen, ign, gin) with AdamW and a step decay; keeps the best "
      "validation epoch";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"best_val_acc", "best_epoch", "train_time_s"};
  op.params = {
      group_param("model", "graph", "spen",
                  "architecture (its params are set beside it; `flowlab models` lists them)"),
      float_param("lr", 0.001, "AdamW's learning rate", 0.0, 10.0, /*min_exclusive=*/true),
      float_param("weight_decay", 0.0, "AdamW's decoupled weight decay", 0.0),
      float_param("lr_decay", 0.7, "learning-rate factor every decay_every epochs (StepLR)", 0.0,
                  1.0, /*min_exclusive=*/true),
      int_param("decay_every", 20, "epochs between learning-rate decays", 1.0, 100000.0),
      int_param("epochs", 50, "passes over the training graphs", 1.0, 100000.0),
      int_param("batch_size", 8, "graphs per step (joined block-diagonally)", 1.0, 1'000'000.0),
      inherited(int_param("seed", 0,
                          "seed of the initial weights, shuffling and dropout (default: the "
                          "spec's seed)",
                          0.0)),
      inherited(string_param("device", "auto",
                             "auto picks cuda when available (default: the spec's device)",
                             {"auto", "cpu", "cuda"})),
  };
  for (auto& spec : training::loop_params(/*log_every=*/20, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"data", GraphDataset::kType, "labelled graphs with train / valid / test splits"}};
  op.output_type = GraphModel::kType;
  op.run = run_train_graph_classifier;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::graphnets
