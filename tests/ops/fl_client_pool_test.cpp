// One client's federated round against mathematics: with the whole shard in one batch and one
// local epoch, local SGD is a single gradient step, so the update of a logistic regression is
// -lr * grad of the mean cross-entropy, written out by hand here (softmax minus one-hot, times
// the inputs) rather than through autograd. And the round must leave the global weights it
// started from untouched (LibTorch's vector_to_parameters would alias them).
#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "datasets/classification_data.h"
#include "ops/classifier.h"
#include "ops/fl/client_pool.h"
#include "ops/register.h"

namespace {

namespace fl = flowlab::ops::fl;

struct Setup {
  flowlab::Registry registry;
  std::shared_ptr<flowlab::datasets::ClassificationData> data =
      std::make_shared<flowlab::datasets::ClassificationData>();
  std::shared_ptr<flowlab::ops::Classifier> model;
  Setup() {
    flowlab::ops::register_ops(registry);
    torch::manual_seed(5);
    data->train_x = torch::rand({40, 1, 4, 4});
    data->train_y = torch::randint(0, 3, {40}, torch::kInt64);
    data->class_names = {"a", "b", "c"};
    flowlab::ops::ModelRecord record;
    record.family = "classifier";
    record.arch = "linear";
    record.input.shape = {1, 4, 4};
    record.input.outputs = 3;
    model = std::make_shared<flowlab::ops::Classifier>(record, flowlab::ops::Standardization{},
                                                       registry);
  }
  fl::FederatedJob job() const {
    fl::FederatedJob j;
    j.clients = 4;
    j.clients_per_round = 2;
    j.local_epochs = 1;
    j.local_batch_size = 1000;  // the whole shard: one full-batch step
    j.local_lr = 0.5;
    j.mechanism.name = "none";
    return j;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fl_client_pool)

BOOST_AUTO_TEST_CASE(a_full_batch_round_is_one_hand_written_gradient_step) {
  Setup s;
  fl::ClientPool pool(s.job(), s.data, s.model);
  BOOST_REQUIRE_EQUAL(pool.dimension(), 3 * 16 + 3);
  const auto global = torch::randn({pool.dimension()}) * 0.3;
  const auto before = global.clone();
  std::vector<double> message(pool.dimension());
  const int64_t client = 2;
  const double loss = pool.client_round(1, client, global, message.data());
  BOOST_TEST(torch::equal(global, before));  // the round worked on its own copy

  const auto& shard = pool.shards()[client];
  BOOST_REQUIRE(!shard.empty());
  const auto rows = torch::tensor(shard, torch::kInt64);
  const auto x = s.data->train_x.index_select(0, rows).reshape({-1, 16}).to(torch::kFloat64);
  const auto y = s.data->train_y.index_select(0, rows);
  const auto w = before.slice(0, 0, 48).view({3, 16}).to(torch::kFloat64);
  const auto b = before.slice(0, 48, 51).to(torch::kFloat64);
  const auto p = torch::softmax(x.matmul(w.t()) + b, 1);
  const auto onehot = torch::one_hot(y, 3).to(torch::kFloat64);
  const auto g = (p - onehot) / double(shard.size());
  const auto expected = torch::cat({g.t().matmul(x).flatten(), g.sum(0)}) * -0.5;
  const auto got = torch::tensor(message, torch::kFloat64);
  BOOST_TEST(torch::allclose(got, expected, 1e-5, 1e-6));
  // The loss reported is the mean cross-entropy at the starting weights.
  const double ce = -(onehot * p.log()).sum(1).mean().item<double>();
  BOOST_TEST(loss == ce, boost::test_tools::tolerance(1e-5));
}

BOOST_AUTO_TEST_CASE(a_round_depends_only_on_seed_round_client_and_weights) {
  Setup s;
  auto job = s.job();
  job.local_batch_size = 3;  // several shuffled steps
  job.mechanism.name = "rqm";
  job.mechanism.clip = job.mechanism.rqm.clip = 0.05;
  fl::ClientPool pool(job, s.data, s.model);
  const auto global = torch::randn({pool.dimension()}) * 0.3;
  std::vector<double> first(pool.dimension()), again(pool.dimension()), other(pool.dimension());
  pool.client_round(4, 1, global, first.data());
  pool.client_round(7, 3, global, other.data());  // another client in between
  pool.client_round(4, 1, global, again.data());
  BOOST_TEST(first == again, boost::test_tools::per_element());
  BOOST_TEST(first != other);
}

BOOST_AUTO_TEST_SUITE_END()
