// train.kge: trains a knowledge-graph embedding (a registered architecture of family "kge") as
// the NFE reference code does: every training triple also as its inverse query, 1-N scoring of
// each query against all entities, binary cross-entropy with the true tail as the one positive,
// Adam with an exponential learning-rate decay per epoch, validation (filtered MRR) after every
// epoch, and the weights of the best validation epoch as the result. Runs through the shared
// training loop, so a killed training resumes from its last checkpoint.
#include <cmath>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/knowledge_graph.h"
#include "ops/kge/kge_model.h"
#include "ops/kge/kge_network.h"
#include "ops/kge/one_to_n_loss.h"
#include "ops/kge/ranking.h"
#include "ops/models/saved_model.h"
#include "ops/torch_runtime.h"
#include "ops/training/best_epoch.h"
#include "ops/training/checkpoint_files.h"
#include "ops/training/epoch_order.h"
#include "ops/training/loop.h"

namespace flowlab::ops::kge {
namespace {

using datasets::KnowledgeGraph;
namespace fs = std::filesystem;

torch::Tensor as_tensor(const std::vector<datasets::Triple>& triples) {
  auto t = torch::empty({static_cast<int64_t>(triples.size()), 3}, torch::kInt64);
  auto a = t.accessor<int64_t, 2>();
  for (size_t i = 0; i < triples.size(); ++i)
    a[i][0] = triples[i].head, a[i][1] = triples[i].relation, a[i][2] = triples[i].tail;
  return t;
}

class KgeTrainer : public training::Trainer {
 public:
  KgeTrainer(const Params& p, std::shared_ptr<KgeModel> model,
             std::shared_ptr<const KnowledgeGraph> graph, torch::Device device)
      : model_(std::move(model)),
        net_(*model_->network),
        graph_(std::move(graph)),
        device_(device),
        train_list_(
            datasets::with_inverses(graph_->train, static_cast<int32_t>(graph_->num_relations()))),
        valid_(
            datasets::with_inverses(graph_->valid, static_cast<int32_t>(graph_->num_relations()))),
        test_(datasets::with_inverses(graph_->test, static_cast<int32_t>(graph_->num_relations()))),
        known_({&train_list_, &valid_, &test_}, static_cast<int32_t>(2 * graph_->num_relations())),
        train_(as_tensor(train_list_).to(device)),
        optimizer_(net_.parameters(), torch::optim::AdamOptions(p.get_float("lr"))),
        lr_(p.get_float("lr")),
        decay_(p.get_float("lr_decay")),
        n_(train_.size(0)),
        batch_(p.get_int("batch_size")),
        epochs_(p.get_int("epochs")),
        eval_batch_(p.get_int("eval_batch_size")),
        order_(n_, static_cast<uint64_t>(p.get_int("seed")) + 0x9e3779b97f4a7c15ULL) {}

  int64_t steps_per_epoch() const { return (n_ + batch_ - 1) / batch_; }
  const training::BestEpoch& best() const { return best_; }

  training::StepResult step(int64_t step) override {
    const int64_t epoch = (step - 1) / steps_per_epoch() + 1, b = (step - 1) % steps_per_epoch();
    // ExponentialLR stepped after every epoch: epoch e trains at lr * decay^(e - 1).
    optimizer_.param_groups()[0].options().set_lr(lr_ *
                                                  std::pow(decay_, static_cast<double>(epoch - 1)));
    const auto rows = train_.index_select(
        0, order_.permutation(epoch, device_).slice(0, b * batch_, (b + 1) * batch_));
    optimizer_.zero_grad();
    const auto scores = net_.score_all(rows.select(1, 0), rows.select(1, 1));
    const auto loss = one_to_n_cross_entropy(scores, rows.select(1, 2).contiguous());
    const double value = loss.item<double>();
    if (std::isfinite(value)) {
      loss.backward();
      optimizer_.step();
    }
    steps_done_ = step;
    return {value, rows.size(0)};
  }

  void on_epoch_end(OpContext& ctx, int64_t epoch) override {
    if (valid_.empty()) return best_.take_last(epoch);
    net_.eval();
    const auto s = summarize(filtered_ranks(net_, valid_, known_, eval_batch_));
    net_.train();
    ctx.log_metric("val_mrr", s.mrr, epoch);
    ctx.log_metric("val_hits@10", s.hits10, epoch);
    best_.offer(s.mrr, epoch, {net_.entity_table(), net_.relation_table()});
  }

  /// Puts the best validation epoch's weights into the network.
  void restore_best() { best_.restore({net_.entity_table(), net_.relation_table()}); }

  std::string position(int64_t step) const override {
    return training::epoch_position(step, steps_per_epoch(), epochs_);
  }

  void save(const fs::path& dir) const override {
    training::save_module(dir / "model.pt", net_);
    training::save_optimizer(dir / "optimizer.pt", optimizer_);
    training::save_tensor(dir / "generator.pt",
                          order_.checkpoint_state(steps_done_, steps_per_epoch()));
    best_.save(dir);
  }

  void load(const fs::path& dir) override {
    training::load_module(dir / "model.pt", net_);
    training::load_optimizer(dir / "optimizer.pt", optimizer_);
    order_.restore(training::load_tensor(dir / "generator.pt"));
    best_.load(dir, device_);
  }

 private:
  std::shared_ptr<KgeModel> model_;
  KgeNetwork& net_;
  std::shared_ptr<const KnowledgeGraph> graph_;
  torch::Device device_;
  std::vector<datasets::Triple> train_list_, valid_, test_;  // queries: triples and inverses
  datasets::KnownTails known_;                               // the filter of filtered ranking
  torch::Tensor train_;                                      // train_list_ as [N, 3]
  torch::optim::Adam optimizer_;
  double lr_, decay_;
  int64_t n_, batch_, epochs_, eval_batch_;
  training::EpochOrder order_;
  training::BestEpoch best_;
  int64_t steps_done_ = 0;
};

ArtifactPtr run_train_kge(OpContext& ctx) {
  const Params& p = ctx.params();
  const torch::Device device(resolve_device(p.get_string("device")));
  auto graph = ctx.input<KnowledgeGraph>("graph");
  if (graph->train.empty()) throw RunError("the graph has no training triples");

  auto model = std::make_shared<KgeModel>();
  model->record.family = "kge";
  model->record.arch = p.get_string("model");
  model->record.params = model_params(ctx.registry(), "kge", model->record.arch, p);
  model->record.input.entities = graph->num_entities();
  model->record.input.relations = 2 * graph->num_relations();
  model->base_relations = graph->num_relations();
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(static_cast<uint64_t>(p.get_int("seed")));
    model->network = std::dynamic_pointer_cast<KgeNetwork>(model->record.build(ctx.registry()));
  }
  if (!model->network)
    throw RunError("model '" + model->record.arch + "' is not a knowledge-graph embedding");
  model->network->to(device);
  model->network->train();

  KgeTrainer trainer(p, model, graph, device);
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps_per_epoch = trainer.steps_per_epoch();
  o.steps = p.get_int("epochs") * o.steps_per_epoch;
  o.label = model->record.arch;
  o.hint = fmt::format("lr = {}; try a smaller params.lr", p.get_float("lr"));
  const auto result = training::run_training(ctx, trainer, o);
  trainer.restore_best();
  model->network->eval();
  model->best_epoch = trainer.best().epoch();
  ctx.log_metric("train_time_s", result.train_seconds);
  ctx.log_metric("best_epoch", static_cast<double>(trainer.best().epoch()));
  if (trainer.best().scored()) ctx.log_metric("best_val_mrr", trainer.best().score());
  return model;
}

}  // namespace

void register_train_kge(Registry& r) {
  OpDef op;
  op.name = "train.kge";
  op.summary =
      "train a knowledge-graph embedding (NFE, TransE, DistMult) with 1-N scoring and binary "
      "cross-entropy; keeps the best validation epoch";
  op.version = 1;
  op.threads = 2;
  op.headline_metrics = {"best_val_mrr", "best_epoch", "train_time_s"};
  op.params = {
      group_param("model", "kge", "nfe1",
                  "scoring function (its params dim and gamma are set beside it; `flowlab models` "
                  "lists them)"),
      float_param("lr", 0.005, "Adam's learning rate", 0.0, 10.0, /*min_exclusive=*/true),
      float_param("lr_decay", 0.9, "learning-rate factor per epoch (ExponentialLR)", 0.0, 1.0,
                  /*min_exclusive=*/true),
      int_param("epochs", 20, "passes over the training queries (each triple and its inverse)", 1.0,
                100000.0),
      int_param("batch_size", 128, "queries per step", 1.0, 1'000'000.0),
      int_param("eval_batch_size", 512, "queries scored at once when validating", 1.0, 1'000'000.0),
      inherited(int_param("seed", 0,
                          "seed of the initial embeddings and the shuffling (default: the spec's "
                          "seed)",
                          0.0)),
      inherited(string_param("device", "auto",
                             "auto picks cuda when available (default: the spec's device)",
                             {"auto", "cpu", "cuda"})),
  };
  for (auto& spec : training::loop_params(/*log_every=*/100, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"graph", datasets::KnowledgeGraph::kType, "the knowledge graph to embed"}};
  op.output_type = KgeModel::kType;
  op.run = run_train_kge;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::kge
