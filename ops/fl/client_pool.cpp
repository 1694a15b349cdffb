#include "ops/fl/client_pool.h"

#include <random>

#include <fmt/format.h>
#include <torch/nn/utils/convert_parameters.h>
#include <torch/torch.h>

#include "common/error.h"
#include "datasets/classification_data.h"
#include "ops/classifier_net.h"
#include "ops/fl/partition.h"
#include "ops/privacy/mechanism.h"

namespace flowlab::ops::fl {

at::Tensor flat_parameters(const Classifier& model) {
  torch::NoGradGuard no_grad;
  return torch::nn::utils::parameters_to_vector(model.net().parameters()).contiguous().clone();
}

void set_flat_parameters(const Classifier& model, const at::Tensor& flat) {
  // Copies, where torch::nn::utils::vector_to_parameters would make the parameters views of
  // `flat`: local training would then write into the global weights it started from.
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto& parameter : model.net().parameters()) {
    const int64_t n = parameter.numel();
    parameter.copy_(flat.slice(0, offset, offset + n).view_as(parameter));
    offset += n;
  }
  if (offset != flat.numel())
    throw RunError(
        fmt::format("a flat weight vector of {} values for a model of {}", flat.numel(), offset));
}

ClientPool::ClientPool(FederatedJob job, std::shared_ptr<const datasets::ClassificationData> data,
                       std::shared_ptr<Classifier> scratch)
    : job_(std::move(job)), data_(std::move(data)), model_(std::move(scratch)) {
  const at::Tensor labels = data_->train_y.to(torch::kInt64).contiguous();
  std::vector<int64_t> y(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
  shards_ = partition_clients(y, job_.clients, job_.partition, job_.alpha, job_.seed);
  dimension_ = flat_parameters(*model_).numel();
}

std::vector<int64_t> ClientPool::sample(int64_t round) const {
  return sample_clients(job_.clients, job_.clients_per_round, job_.seed, round);
}

double ClientPool::client_round(int64_t round, int64_t client, const at::Tensor& global,
                                double* message) {
  const std::vector<int64_t>& shard = shards_.at(client);
  set_flat_parameters(*model_, global);
  auto& net = model_->net();
  net.train();
  double loss_sum = 0;
  int64_t batches = 0;
  if (!shard.empty()) {
    torch::optim::SGD optimizer(net.parameters(), torch::optim::SGDOptions(job_.local_lr));
    const auto index = torch::tensor(shard, torch::kInt64);
    const int64_t n = index.numel(), batch = job_.local_batch_size;
    auto generator = at::detail::createCPUGenerator(
        mix_seed({job_.seed, 0x6c6f63616cULL, uint64_t(round), uint64_t(client)}));
    for (int64_t epoch = 0; epoch < job_.local_epochs; ++epoch) {
      const auto order = index.index_select(0, torch::randperm(n, generator, torch::kInt64));
      for (int64_t start = 0; start < n; start += batch) {
        const auto rows = order.slice(0, start, std::min(n, start + batch));
        optimizer.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(
            model_->forward(data_->train_x.index_select(0, rows)),
            data_->train_y.index_select(0, rows));
        const double value = loss.item<double>();
        if (!std::isfinite(value))
          throw RunError(
              fmt::format("client {} in round {}: the local loss is {}; try a smaller "
                          "local_lr (now {})",
                          client, round, value, job_.local_lr));
        loss.backward();
        optimizer.step();
        loss_sum += value;
        ++batches;
      }
    }
  }
  const at::Tensor update = (flat_parameters(*model_) - global).contiguous();
  std::mt19937_64 rng(mix_seed({job_.seed, 0x6d656368ULL, uint64_t(round), uint64_t(client)}));
  privacy::encode(job_.mechanism, update.data_ptr<float>(), dimension_, rng, message);
  return batches ? loss_sum / double(batches) : 0.0;
}

}  // namespace flowlab::ops::fl
