// fl.federated: federated averaging (McMahan et al. 2017) with a privacy mechanism on every
// client update. The training set is split over `clients` clients (iid or Dirichlet label skew);
// each round `clients_per_round` of them train locally from the global weights and send their
// update through the mechanism (clipped per coordinate to [-c, c], then RQM / PBM / Gaussian);
// the server decodes the mean update from the sum of the messages and applies it. Rounds are the
// shared training loop's steps, so the node checkpoints, resumes and reports progress like every
// trainer. With `launcher: gloo` the clients run in worker processes (gloo_launcher.h); the
// result is the same as in process for the same seed.
#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/error.h"
#include "common/file_io.h"
#include "datasets/classification_data.h"
#include "ops/classifier.h"
#include "ops/classifier_net.h"
#include "ops/fl/client_pool.h"
#include "ops/fl/gloo_launcher.h"
#include "ops/register.h"
#include "ops/torch_runtime.h"
#include "ops/training/loop.h"

namespace flowlab::ops::fl {
namespace {

using datasets::ClassificationData;
namespace fs = std::filesystem;

// Where the workers find the data and model: a fresh temporary directory removed afterwards, or
// the directory the spec names (job_dir, for workers started elsewhere; left in place).
struct JobDir {
  fs::path path;
  bool remove = false;
  explicit JobDir(const std::string& chosen) {
    if (!chosen.empty()) {
      path = chosen;
      std::error_code ec;
      fs::remove_all(path / "data", ec);  // a previous run's copy
      fs::remove_all(path / "model", ec);
      fs::remove(path / "job.json", ec);
      return;
    }
    std::string pattern = (fs::temp_directory_path() / "flowlab-fl-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw RunError("cannot create a directory for the Gloo job");
    path = pattern;
    remove = true;
  }
  ~JobDir() {
    std::error_code ec;
    if (remove) fs::remove_all(path, ec);
  }
};

class FederatedTrainer : public training::Trainer {
 public:
  FederatedTrainer(const FederatedJob& job, std::shared_ptr<Classifier> global,
                   std::shared_ptr<ClientPool> pool, std::shared_ptr<const ClassificationData> data,
                   double server_lr, int64_t rounds, privacy::LocalAccounting accounting,
                   GlooServer* gloo)
      : job_(job),
        global_(std::move(global)),
        pool_(std::move(pool)),
        data_(std::move(data)),
        server_lr_(server_lr),
        rounds_(rounds),
        accounting_(std::move(accounting)),
        gloo_(gloo) {}

  training::StepResult step(int64_t round) override {
    const std::vector<int64_t> sampled = pool_->sample(round);
    const int64_t k = static_cast<int64_t>(sampled.size()), d = pool_->dimension();
    const at::Tensor weights = flat_parameters(*global_);
    at::Tensor rows;
    if (gloo_) {
      rows = gloo_->round(round, weights, k, d);
    } else {
      rows = torch::zeros({k, d + 1}, torch::kFloat64);
      double* base = rows.data_ptr<double>();
      for (int64_t p = 0; p < k; ++p)
        base[p * (d + 1) + d] = pool_->client_round(round, sampled[p], weights, base + p * (d + 1));
    }
    // Sum the messages in client order (the same order whatever the launcher), then decode.
    const double* base = rows.data_ptr<double>();
    std::vector<double> sum(d, 0.0), mean(d);
    double loss = 0;
    int64_t examples = 0;
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t i = 0; i < d; ++i) sum[i] += base[p * (d + 1) + i];
      loss += base[p * (d + 1) + d] / double(k);
      examples += static_cast<int64_t>(pool_->shards()[sampled[p]].size()) * job_.local_epochs;
    }
    privacy::decode_mean(job_.mechanism, sum.data(), d, k, mean.data());
    const at::Tensor update =
        torch::from_blob(mean.data(), {d}, torch::kFloat64).to(torch::kFloat32);
    set_flat_parameters(*global_, weights + server_lr_ * update);
    return {loss, examples};
  }

  void on_log(OpContext& ctx, int64_t round) override {
    auto [accuracy, loss] = evaluate_split(*global_, data_->test_x, data_->test_y);
    ctx.log_metric("test_acc", accuracy, round);
    ctx.log_metric("test_loss", loss, round);
    last_accuracy_ = accuracy;
    if (job_.mechanism.name != "none") {
      // The per-coordinate curve once per run; each log only composes and converts it.
      if (per_coordinate_.orders.empty())
        per_coordinate_ = privacy::rdp_per_coordinate(job_.mechanism, accounting_.orders);
      const double uses = double(accounting_.coordinates) * double(round);
      ctx.log_metric("epsilon", privacy::epsilon_after(per_coordinate_, uses, accounting_).epsilon,
                     round);
    }
  }

  std::string position(int64_t round) const override {
    return fmt::format("round {}/{}", round, rounds_);
  }

  void save(const fs::path& dir) const override {
    const at::Tensor weights = flat_parameters(*global_);
    write_file_with(dir / "global.pt", [&](const ByteSink& s) { torch::save(weights, s); });
  }

  void load(const fs::path& dir) override {
    at::Tensor weights;
    torch::load(weights, (dir / "global.pt").string());
    set_flat_parameters(*global_, weights);
  }

  double last_accuracy() const { return last_accuracy_; }

 private:
  FederatedJob job_;
  std::shared_ptr<Classifier> global_;
  std::shared_ptr<ClientPool> pool_;
  std::shared_ptr<const ClassificationData> data_;
  double server_lr_;
  int64_t rounds_;
  privacy::LocalAccounting accounting_;
  GlooServer* gloo_;
  privacy::RdpCurve per_coordinate_;
  double last_accuracy_ = 0;
};

ArtifactPtr run_federated(OpContext& ctx) {
  const Params& p = ctx.params();
  auto data = ctx.input<ClassificationData>("data");
  if (data->train_x.size(0) == 0) throw RunError("the training split is empty");
  if (data->test_x.size(0) == 0) throw RunError("the test split is empty: nothing to evaluate on");
  FederatedJob job = read_job(p);
  job.threads = ctx.threads();

  ModelRecord record = classifier_record(ctx.registry(), p, *data);
  const Standardization standardization{data->mean, data->std, "all"};
  std::shared_ptr<Classifier> global, scratch;
  {
    std::lock_guard<std::mutex> lock(global_rng_mutex());
    torch::manual_seed(static_cast<uint64_t>(p.get_int("seed")));
    global = std::make_shared<Classifier>(record, standardization, ctx.registry());
    scratch = std::make_shared<Classifier>(record, standardization, ctx.registry());
  }
  global->net().train();

  const int64_t rounds = p.get_int("rounds");
  privacy::LocalAccounting accounting;
  accounting.coordinates = flat_parameters(*global).numel();
  accounting.rounds = rounds;
  accounting.delta = p.get_float("delta");
  if (p.get_float("target_epsilon") > 0)
    job.mechanism = privacy::calibrate(job.mechanism, p.get_float("target_epsilon"), accounting);
  auto pool = std::make_shared<ClientPool>(job, data, scratch);

  std::unique_ptr<JobDir> job_dir;
  std::unique_ptr<GlooServer> gloo;
  if (job.processes > 0) {
    job_dir = std::make_unique<JobDir>(p.get_string("job_dir"));
    fs::create_directories(job_dir->path / "data");
    fs::create_directories(job_dir->path / "model");
    data->save(job_dir->path / "data");
    global->save(job_dir->path / "model");
    const bool spawn = p.get_string("workers") == "spawn";
    if (!spawn)
      ctx.progress(
          0.0, fmt::format("waiting up to {} s for {} workers: flowlab fl-worker --job {} "
                           "--rank R (R = 1..{})",
                           job.timeout_s, job.processes, job_dir->path.string(), job.processes));
    gloo = std::make_unique<GlooServer>(job, job_dir->path, spawn);
  }

  FederatedTrainer trainer(job, global, pool, data, p.get_float("server_lr"), rounds, accounting,
                           gloo.get());
  training::LoopOptions o;
  training::read_loop_params(p, o);
  o.steps = rounds;
  o.label = "fedavg";
  o.hint = fmt::format("local_lr = {}; try a smaller local_lr", job.local_lr);
  auto result = training::run_training(ctx, trainer, o);
  if (gloo) gloo->finish();
  global->net().eval();

  ctx.log_metric("final_test_acc", trainer.last_accuracy());
  ctx.log_metric("train_time_s", result.train_seconds);
  ctx.log_metric("coordinates", double(pool->dimension()));
  ctx.log_metric("bits_per_coordinate", privacy::bits_per_coordinate(job.mechanism));
  const auto dp = privacy::epsilon_of(job.mechanism, accounting);
  if (std::isfinite(dp.epsilon)) {
    ctx.log_metric("epsilon", dp.epsilon);
    ctx.log_metric("delta", dp.delta);
  }
  if (job.mechanism.name == "rqm") ctx.log_metric("margin", job.mechanism.rqm.margin);
  if (job.mechanism.name == "pbm") ctx.log_metric("theta", job.mechanism.pbm.theta);
  if (job.mechanism.name == "gaussian") ctx.log_metric("sigma", job.mechanism.sigma);
  size_t smallest = SIZE_MAX;
  for (const auto& shard : pool->shards()) smallest = std::min(smallest, shard.size());
  ctx.log_metric("smallest_shard", double(smallest));
  return global;
}

}  // namespace

void register_federated(Registry& r) {
  OpDef op;
  op.name = "fl.federated";
  op.summary =
      "federated averaging over simulated clients, each update privatized by a mechanism (RQM, "
      "PBM, Gaussian or none); clients in process or in Gloo worker processes";
  op.version = 1;
  op.threads = 1;  // small local models: one thread each, so sweeps run runs side by side
  op.headline_metrics = {"final_test_acc", "epsilon", "bits_per_coordinate"};
  op.params = {
      group_param("model", "classifier", "linear",
                  "architecture (its params are set beside it; `flowlab models` lists them)"),
      int_param("clients", 100, "clients the training split is divided among", 1.0, 1e6),
      int_param("clients_per_round", 10, "clients sampled (without replacement) each round", 1.0,
                1e6),
      int_param("rounds", 30, "communication rounds", 1.0, 1e6),
      string_param("partition", "iid",
                   "iid shards, or dirichlet label skew (per class, Dirichlet(alpha) proportions)",
                   {"iid", "dirichlet"}),
      float_param("alpha", 0.5, "Dirichlet concentration (partition: dirichlet)", 0.0, 1e6, true),
      int_param("local_epochs", 1, "passes over its shard a client makes per round", 1.0, 1000.0),
      int_param("local_batch_size", 32, "examples per local SGD step", 1.0, 1e6),
      float_param("local_lr", 0.1, "local SGD learning rate", 0.0, 100.0, true),
      float_param("server_lr", 1.0, "the server's step along the decoded mean update", 0.0, 100.0,
                  true),
      not_in_key(string_param("launcher", "in_process",
                              "in_process, or gloo: clients in `processes` worker processes "
                              "exchanging through LibTorch's c10d Gloo process group (the same "
                              "result for the same seed, so not in the cache key)",
                              {"in_process", "gloo"})),
      not_in_key(int_param("processes", 2, "Gloo worker processes (launcher: gloo)", 1.0, 1024.0)),
      not_in_key(string_param("workers", "spawn",
                              "spawn: the node starts its `processes` workers on this machine; "
                              "external: it waits for them to be started (`flowlab fl-worker "
                              "--job JOB_DIR --rank R`, e.g. on other machines)",
                              {"spawn", "external"})),
      not_in_key(string_param("job_dir", "",
                              "where the workers read the job, data and model (empty: a "
                              "temporary directory; external workers need one they can read)")),
      not_in_key(string_param("master_addr", "127.0.0.1",
                              "address the Gloo rendezvous listens on (launcher: gloo; for "
                              "workers on other machines, one they reach)")),
      not_in_key(int_param("master_port", 0, "its port; 0 picks a free one", 0.0, 65535.0)),
      not_in_key(float_param("timeout_s", 120.0,
                             "longest wait for a worker in any exchange before the node fails", 0.0,
                             1e6, true)),
      inherited(
          int_param("seed", 0, "shards, client sampling, local shuffles, mechanism noise", 0.0)),
  };
  for (auto& spec : privacy::mechanism_params("rqm", 0.01)) op.params.push_back(std::move(spec));
  for (auto& spec : training::loop_params(/*log_every=*/1, /*checkpoint_seconds=*/60.0))
    op.params.push_back(std::move(spec));
  op.inputs = {{"data", ClassificationData::kType, "images with train and test splits"}};
  op.output_type = Classifier::kType;
  op.run = run_federated;
  r.add(std::move(op));
}

}  // namespace flowlab::ops::fl
