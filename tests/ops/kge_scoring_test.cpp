// NFE's scoring functions and the baselines, checked against mathematics: the 1-N matrix-product
// form against the per-triple definitions, the closed forms against Monte-Carlo Wasserstein
// distances (sorted samples: the quantile coupling) and a Monte-Carlo KL, symmetry at a = -1, the
// group structure of relation flows, and filtered ranks on cases whose answer is known.
#include <cmath>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "experiments/cli/builtin.h"
#include "ops/kge/kge_network.h"
#include "ops/kge/one_to_n_loss.h"
#include "ops/kge/ranking.h"
#include "ops/models/model.h"

namespace {

using flowlab::ops::kge::AffineFlow;
using flowlab::ops::kge::KgeNetwork;

const flowlab::Registry& registry() {
  static const flowlab::Registry r = flowlab::cli::make_builtin_registry();
  return r;
}

// A network of `arch` over E entities and R relations, its tables drawn N(0, 0.7^2) (wider than
// training's initialization, so signs and magnitudes of every kind occur).
std::shared_ptr<KgeNetwork> make(const std::string& arch, int64_t entities, int64_t relations,
                                 int64_t dim, double gamma = 0.5) {
  flowlab::ops::ModelRecord record;
  record.family = "kge";
  record.arch = arch;
  std::map<std::string, flowlab::ParamValue> values{{"dim", dim}};
  if (arch != "distmult") values["gamma"] = gamma;
  record.params = flowlab::Params(values);
  record.input.entities = entities, record.input.relations = relations;
  torch::manual_seed(7);
  auto net = std::dynamic_pointer_cast<KgeNetwork>(record.build(registry()));
  torch::NoGradGuard no_grad;
  net->entity_table().normal_(0, 0.7);
  net->relation_table().normal_(0, 0.7);
  return net;
}

torch::Tensor ids(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }

const std::vector<std::string> kArchs = {
    "nfe1", "nfe2", "nfe3", "nfe1_mean_only", "nfe1_sigma_only", "transe", "distmult"};

// W2^2 between two 1-D distributions from samples: sort both (the quantile coupling is optimal).
double sorted_w2(torch::Tensor x, torch::Tensor y) {
  return (std::get<0>(x.sort()) - std::get<0>(y.sort())).pow(2).mean().item<double>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kge_scoring)

BOOST_AUTO_TEST_CASE(one_to_n_scores_equal_the_per_triple_definitions) {
  for (const auto& arch : kArchs) {
    auto net = make(arch, 9, 4, 5);
    const auto heads = ids({0, 3, 8, 5, 2, 2}), rels = ids({0, 1, 2, 3, 3, 1});
    const auto all = net->score_all(heads, rels);  // [6, 9]
    BOOST_REQUIRE_EQUAL(all.size(1), 9);
    for (int64_t t = 0; t < 9; ++t) {
      const auto tails = torch::full({6}, t, torch::kInt64);
      const auto direct = net->score(heads, rels, tails);
      BOOST_TEST(
          torch::allclose(all.select(1, t), direct, 1e-4, 1e-4),
          arch << " tail " << t << ": " << (all.select(1, t) - direct).abs().max().item<double>());
    }
  }
}

BOOST_AUTO_TEST_CASE(nfe1_is_the_squared_wasserstein_distance_of_the_pushed_forward_gaussians) {
  auto net = make("nfe1", 2, 1, 3, /*gamma=*/0.0);
  torch::NoGradGuard no_grad;
  // Negative scales included: N(mu, sigma^2) with sigma < 0 is the same law as with |sigma|.
  net->entity_table().copy_(
      torch::tensor({{0.3, -1.0, 0.5, 0.8, -0.4, 1.2}, {-0.2, 0.7, 1.5, -0.6, 0.9, 0.3}}));
  net->relation_table().copy_(torch::tensor({{0.5, -0.3, 1.0, 1.5, -0.7, 2.0}}));  // b, a
  const double closed = -net->score(ids({0}), ids({0}), ids({1})).item<double>();
  auto e = net->entity_table(), r = net->relation_table();
  torch::manual_seed(1);
  const int64_t n = 400000;
  double mc = 0;
  for (int64_t k = 0; k < 3; ++k) {
    const double mu_h = e[0][k].item<double>(), s_h = e[0][3 + k].item<double>();
    const double mu_t = e[1][k].item<double>(), s_t = e[1][3 + k].item<double>();
    const double b = r[0][k].item<double>(), a = r[0][3 + k].item<double>();
    const auto x = a * (mu_h + s_h * torch::randn({n}, torch::kFloat64)) + b;  // f_r(X_h)
    const auto y = mu_t + s_t * torch::randn({n}, torch::kFloat64);            // X_t
    mc += sorted_w2(x, y);
  }
  BOOST_TEST(std::abs(mc - closed) < 0.01 * closed + 2e-3, "MC " << mc << " closed " << closed);
}

BOOST_AUTO_TEST_CASE(nfe2_is_the_squared_wasserstein_distance_of_two_piece_normals) {
  // X = mu + sL min(Z, 0) + sR max(Z, 0); with a > 0 the flow keeps left and right apart.
  auto net = make("nfe2", 2, 1, 2, /*gamma=*/0.0);
  torch::NoGradGuard no_grad;
  net->entity_table().copy_(
      torch::tensor({{0.3, -1.0, 0.5, 1.4, 0.2, 0.9}, {-0.2, 0.7, 1.5, 0.3, 0.6, 2.0}}));
  net->relation_table().copy_(torch::tensor({{0.5, -0.3, 1.3, 0.6}}));  // b, a (a > 0)
  const double closed = -net->score(ids({0}), ids({0}), ids({1})).item<double>();
  auto e = net->entity_table(), r = net->relation_table();
  torch::manual_seed(2);
  const int64_t n = 400000;
  auto two_piece = [&](double mu, double left, double right) {
    const auto z = torch::randn({n}, torch::kFloat64);
    return mu + left * z.clamp_max(0) + right * z.clamp_min(0);
  };
  double mc = 0;
  for (int64_t k = 0; k < 2; ++k) {
    const double b = r[0][k].item<double>(), a = r[0][2 + k].item<double>();
    const auto x = a * two_piece(e[0][k].item<double>(), e[0][2 + k].item<double>(),
                                 e[0][4 + k].item<double>()) +
                   b;
    const auto y =
        two_piece(e[1][k].item<double>(), e[1][2 + k].item<double>(), e[1][4 + k].item<double>());
    mc += sorted_w2(x, y);
  }
  BOOST_TEST(std::abs(mc - closed) < 0.01 * closed + 2e-3, "MC " << mc << " closed " << closed);
}

BOOST_AUTO_TEST_CASE(nfe3_is_the_kl_divergence_of_the_gaussians) {
  auto net = make("nfe3", 2, 1, 3, /*gamma=*/0.0);
  torch::NoGradGuard no_grad;
  auto e = net->entity_table().to(torch::kFloat64), r = net->relation_table().to(torch::kFloat64);
  const double closed = -net->score(ids({0}), ids({0}), ids({1})).item<double>();
  torch::manual_seed(3);
  const int64_t n = 1000000;
  auto softplus = [](const torch::Tensor& x) { return torch::nn::functional::softplus(x); };
  torch::Tensor log_ratio = torch::zeros({n}, torch::kFloat64);
  for (int64_t k = 0; k < 3; ++k) {
    const auto b = r[0][k], a = r[0][3 + k];
    const auto m1 = a * e[0][k] + b, s1 = softplus(a) * softplus(e[0][3 + k]);
    const auto m2 = e[1][k], s2 = softplus(e[1][3 + k]);
    const auto x = m1 + s1 * torch::randn({n}, torch::kFloat64);  // x ~ p = N(m1, s1^2)
    const auto log_p = -0.5 * ((x - m1) / s1).pow(2) - s1.log();
    const auto log_q = -0.5 * ((x - m2) / s2).pow(2) - s2.log();
    log_ratio += log_p - log_q;
  }
  const double mc = log_ratio.mean().item<double>();
  const double se = log_ratio.std().item<double>() / std::sqrt(static_cast<double>(n));
  BOOST_TEST(std::abs(mc - closed) < 5 * se + 1e-4,
             "MC " << mc << " +- " << se << " closed " << closed);
}

BOOST_AUTO_TEST_CASE(a_scale_of_minus_one_makes_a_relation_symmetric) {
  for (const std::string arch : {"nfe1", "nfe1_mean_only", "nfe1_sigma_only", "nfe2"}) {
    auto net = make(arch, 7, 2, 4);
    auto flow = *net->relation_flow(1);
    net->set_relation_flow(1, {-torch::ones_like(flow.a), flow.b});
    const auto all = torch::arange(7, torch::kInt64);
    const auto s = net->score_all(all, torch::full({7}, 1, torch::kInt64));  // s[h][t]
    const double asym = (s - s.t()).abs().max().item<double>();
    if (arch == "nfe2")  // it does not swap left and right scales when a < 0 (as the reference)
      BOOST_TEST(asym > 1e-2, arch << " " << asym);
    else
      BOOST_TEST(asym < 1e-5, arch << " " << asym);
    BOOST_TEST(net->relation_flow(1)->involution_residual() == 0.0);
    // The other relation (a random flow) is not symmetric.
    const auto s0 = net->score_all(all, torch::zeros({7}, torch::kInt64));
    BOOST_TEST((s0 - s0.t()).abs().max().item<double>() > 1e-2, arch);
  }
  // TransE is symmetric only with r = 0; DistMult always is.
  auto transe = make("transe", 7, 2, 4);
  {
    torch::NoGradGuard no_grad;
    transe->relation_table()[0].zero_();
  }
  const auto all = torch::arange(7, torch::kInt64);
  const auto st = transe->score_all(all, torch::zeros({7}, torch::kInt64));
  BOOST_TEST((st - st.t()).abs().max().item<double>() < 1e-5);
  const auto sd = make("distmult", 7, 2, 4)->score_all(all, torch::ones({7}, torch::kInt64));
  BOOST_TEST((sd - sd.t()).abs().max().item<double>() < 1e-5);
}

BOOST_AUTO_TEST_CASE(composing_two_relation_flows_is_the_flow_with_the_composed_parameters) {
  auto net = make("nfe1", 6, 3, 4);
  const auto f0 = *net->relation_flow(0), f1 = *net->relation_flow(1);
  net->set_relation_flow(2, f0.then(f1));  // r2 = r1 o r0: a1 a0, a1 b0 + b1
  torch::NoGradGuard no_grad;
  const auto e = net->entity_table().chunk(2, -1);
  for (int64_t h = 0; h < 6; ++h)
    for (int64_t t = 0; t < 6; ++t) {
      // Push N(mu_h, sigma_h^2) through f0, then f1, then take NFE-1's distance to X_t.
      const auto mu = f1.apply(f0.apply(e[0][h]));
      const auto sigma = (f1.a * f0.a * e[1][h]).abs();
      const double expected =
          0.5 - ((mu - e[0][t]).pow(2) + (sigma - e[1][t].abs()).pow(2)).sum().item<double>();
      const double got = net->score(ids({h}), ids({2}), ids({t})).item<double>();
      BOOST_TEST(std::abs(got - expected) < 1e-4 * (1 + std::abs(expected)));
    }
  // A flow followed by its inverse is the identity.
  const auto id = f0.then(f0.inverse());
  const auto x = torch::randn({4});
  BOOST_TEST(torch::allclose(id.apply(x), x, 1e-5, 1e-5));
  BOOST_TEST(id.involution_residual() < 1e-5);
}

BOOST_AUTO_TEST_CASE(the_one_pass_loss_and_gradient_equal_the_reference_formula) {
  // The reference code: mean over queries of sum_e softplus((1 - 2 mask) * s), mask one-hot.
  torch::manual_seed(5);
  const auto s0 = (3 * torch::randn({5, 11}, torch::kFloat64)).requires_grad_(true);
  const auto s1 = s0.detach().clone().requires_grad_(true);
  const auto tails = torch::tensor({3, 0, 10, 3, 7}, torch::kInt64);
  const auto mask = torch::zeros({5, 11}, torch::kFloat64).scatter(1, tails.unsqueeze(1), 1.0);
  const auto reference = torch::nn::functional::softplus((1 - 2 * mask) * s0).sum(-1).mean();
  const auto ours = flowlab::ops::kge::one_to_n_cross_entropy(s1, tails);
  BOOST_TEST(std::abs(ours.item<double>() - reference.item<double>()) < 1e-12);
  (2.5 * reference).backward();
  (2.5 * ours).backward();  // an upstream gradient other than 1 must scale it
  BOOST_TEST(torch::allclose(s1.grad(), s0.grad(), 1e-12, 1e-12));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(kge_ranking)

using flowlab::ops::kge::ranks_from_scores;

BOOST_AUTO_TEST_CASE(filtered_ranks_ignore_other_true_tails_and_count_ties_against_the_model) {
  const std::vector<int32_t> none, other_true = {1}, with_target = {1, 2};
  auto scores = torch::tensor({{0.1f, 0.2f, 0.9f, 0.3f}});
  BOOST_TEST(ranks_from_scores(scores, {2}, {&none})[0] == 1);        // the unique best
  scores[0][1] = 5.0f;                                                // another tail scores higher
  BOOST_TEST(ranks_from_scores(scores, {2}, {&none})[0] == 2);        // raw: it counts
  BOOST_TEST(ranks_from_scores(scores, {2}, {&other_true})[0] == 1);  // filtered: it does not
  BOOST_TEST(ranks_from_scores(scores, {2}, {&with_target})[0] == 1);
  scores[0][3] = 0.9f;  // a tie with the target counts against it
  BOOST_TEST(ranks_from_scores(scores, {2}, {&other_true})[0] == 2);
  scores[0][2] = std::nanf("");
  BOOST_CHECK_THROW(ranks_from_scores(scores, {2}, {&none}), flowlab::RunError);
}

BOOST_AUTO_TEST_CASE(the_random_scoring_floor_is_what_random_scores_get) {
  // 6 entities; query (0, 0) has another true tail (filtered), so 5 candidates remain:
  // E[1/rank] = H_5 / 5 and P(rank <= 3) = 3 / 5.
  using flowlab::datasets::Triple;
  const std::vector<Triple> queries = {{0, 0, 1}, {2, 1, 3}};
  const std::vector<Triple> known_set = {{0, 0, 1}, {0, 0, 4}, {2, 1, 3}};
  const flowlab::datasets::KnownTails known({&known_set}, 2);
  const auto floor = flowlab::ops::kge::random_scoring(queries, known, 6);
  const double h5 = 1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0 + 1 / 5.0, h6 = h5 + 1 / 6.0;
  BOOST_TEST(std::abs(floor.mrr - (h5 / 5 + h6 / 6) / 2) < 1e-12);
  BOOST_TEST(std::abs(floor.hits3 - (3 / 5.0 + 3 / 6.0) / 2) < 1e-12);
  // Random scores ranked by the real code, many times.
  torch::manual_seed(4);
  const int64_t trials = 200000;
  const auto scores = torch::rand({trials, 6});
  std::vector<int32_t> targets(trials, 1);
  const std::vector<int32_t> other = {4};
  std::vector<const std::vector<int32_t>*> k(trials, &other);
  double sum = 0, sum2 = 0;
  for (int64_t r : ranks_from_scores(scores, targets, k)) sum += 1.0 / r, sum2 += 1.0 / r / r;
  const double mean = sum / trials, se = std::sqrt((sum2 / trials - mean * mean) / trials);
  BOOST_TEST(std::abs(mean - h5 / 5) < 4 * se, mean << " vs " << h5 / 5);
}

BOOST_AUTO_TEST_SUITE_END()
