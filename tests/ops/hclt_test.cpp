// Hidden Chow-Liu tree circuits against brute force: on tiny circuits p(x) sums to 1 over every
// assignment and the fully marginalized circuit is 1; prefix marginals are consistent; the
// codec's conditionals equal ratios of marginals, and the incremental ones equal the naive ones;
// EM's expected counts equal the posterior counts of an enumeration over every latent
// configuration; a full EM step never lowers the likelihood.
#include "ops/pc/hclt.h"

#include <cmath>
#include <random>

#include <boost/test/unit_test.hpp>

namespace pc = flowlab::ops::pc;

namespace {

// A random tree on d nodes (node v > 0 hangs off a random earlier node).
std::vector<int32_t> random_tree(int32_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> parent(d, -1);
  for (int32_t v = 1; v < d; ++v) parent[v] = static_cast<int32_t>(rng() % v);
  return parent;
}

std::vector<uint8_t> sample(const pc::Hclt& c, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int32_t m = c.states;
  std::vector<uint8_t> data(n * c.variables);
  std::vector<int32_t> z(c.variables);
  auto draw = [&](const double* p, int32_t k) {
    double u = std::uniform_real_distribution<double>(0, 1)(rng), acc = 0;
    for (int32_t i = 0; i < k; ++i)
      if ((acc += p[i]) >= u) return i;
    return k - 1;
  };
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v : c.order) {
      z[v] = c.parent[v] < 0 ? draw(&c.prior[v * m], m)
                             : draw(&c.transition[(v * m + z[c.parent[v]]) * m], m);
      data[s * c.variables + v] =
          static_cast<uint8_t>(draw(&c.emission[(v * m + z[v]) * c.values], c.values));
    }
  return data;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hclt)

BOOST_AUTO_TEST_CASE(a_tiny_circuit_sums_to_one_and_its_full_marginal_is_one) {
  const auto c = pc::Hclt::random(random_tree(10, 1), 3, 2, 7);
  double total = 0;
  std::vector<uint8_t> x(10);
  for (int code = 0; code < 1024; ++code) {
    for (int v = 0; v < 10; ++v) x[v] = static_cast<uint8_t>((code >> v) & 1);
    total += std::exp(c.log_likelihood(x.data()));
  }
  BOOST_TEST(std::abs(total - 1) < 1e-12);
  BOOST_TEST(std::abs(c.log_marginal(x.data(), std::vector<bool>(10, false))) < 1e-12);
  // A forest (independent variables with M = 1) too.
  const auto f = pc::Hclt::random(std::vector<int32_t>(10, -1), 1, 2, 8);
  total = 0;
  for (int code = 0; code < 1024; ++code) {
    for (int v = 0; v < 10; ++v) x[v] = static_cast<uint8_t>((code >> v) & 1);
    total += std::exp(f.log_likelihood(x.data()));
  }
  BOOST_TEST(std::abs(total - 1) < 1e-12);
}

BOOST_AUTO_TEST_CASE(prefix_conditionals_are_ratios_of_marginals_incremental_or_not) {
  const int32_t d = 12, values = 4;
  const auto c = pc::Hclt::random(random_tree(d, 2), 3, values, 9);
  const auto data = sample(c, 5, 3);
  for (int s = 0; s < 5; ++s) {
    const uint8_t* x = &data[s * d];
    pc::PrefixConditionals fast(c, true), slow(c, false);
    std::vector<bool> seen(d, false);
    std::vector<uint8_t> probe(x, x + d);
    double worst_ratio = 0, worst_naive = 0, worst_sum = 0;
    for (int32_t k = 0; k < d; ++k) {
      const int32_t v = c.order[k];
      const auto pf = fast.next();
      const auto ps = slow.next();
      const double prefix = c.log_marginal(x, seen);
      seen[v] = true;
      double sum = 0;
      for (int32_t value = 0; value < values; ++value) {
        probe[v] = static_cast<uint8_t>(value);
        const double ratio = std::exp(c.log_marginal(probe.data(), seen) - prefix);
        sum += ratio;
        worst_ratio = std::max(worst_ratio, std::abs(ratio - pf[value]));
        worst_naive = std::max(worst_naive, std::abs(ps[value] - pf[value]));
      }
      worst_sum = std::max(worst_sum, std::abs(sum - 1));  // Σ_v P(x<i, X_i = v) = P(x<i)
      probe[v] = x[v];
      fast.observe(x[v]), slow.observe(x[v]);
    }
    BOOST_TEST(worst_ratio < 1e-12);
    BOOST_TEST(worst_naive < 1e-12);
    BOOST_TEST(worst_sum < 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(the_incremental_conditionals_refuse_an_order_that_is_not_depth_first) {
  // 0 -> {1, 2}, 1 -> 3: breadth first (0 1 2 3) leaves 1's subtree before it is finished.
  auto c = pc::Hclt::random({-1, 0, 0, 1}, 2, 2, 3);
  BOOST_TEST((c.order == std::vector<int32_t>{0, 1, 3, 2}));
  c.order = {0, 1, 2, 3};
  pc::PrefixConditionals cond(c, true);
  for (int k = 0; k < 3; ++k) cond.next(), cond.observe(0);
  BOOST_CHECK_THROW(cond.next(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(em_counts_equal_an_enumeration_of_every_latent_configuration) {
  const int32_t d = 5, m = 3, values = 3;
  const auto c = pc::Hclt::random(random_tree(d, 4), m, values, 10);
  const auto data = sample(c, 3, 5);
  pc::EmCounts counts(c), brute(c);
  pc::accumulate_counts(c, data.data(), 0, 3, counts);
  for (int s = 0; s < 3; ++s) {
    const uint8_t* x = &data[s * d];
    std::vector<double> joint(243);
    std::vector<int32_t> z(d);
    double px = 0;
    for (int code = 0; code < 243; ++code) {
      int r = code;
      for (auto& zi : z) zi = r % m, r /= m;
      double p = 1;
      for (int32_t v = 0; v < d; ++v) {
        p *= c.parent[v] < 0 ? c.prior[v * m + z[v]]
                             : c.transition[(v * m + z[c.parent[v]]) * m + z[v]];
        p *= c.emission[(v * m + z[v]) * values + x[v]];
      }
      joint[code] = p, px += p;
    }
    for (int code = 0; code < 243; ++code) {
      int r = code;
      for (auto& zi : z) zi = r % m, r /= m;
      const double w = joint[code] / px;
      for (int32_t v = 0; v < d; ++v) {
        brute.emission[(v * m + z[v]) * values + x[v]] += w;
        if (c.parent[v] < 0)
          brute.prior[v * m + z[v]] += w;
        else
          brute.transition[(v * m + z[c.parent[v]]) * m + z[v]] += w;
      }
    }
    BOOST_TEST(std::abs(std::log(px) - c.log_likelihood(x)) < 1e-12);
  }
  auto gap = [](const std::vector<double>& a, const std::vector<double>& b) {
    double g = 0;
    for (size_t i = 0; i < a.size(); ++i) g = std::max(g, std::abs(a[i] - b[i]));
    return g;
  };
  BOOST_TEST(gap(counts.emission, brute.emission) < 1e-12);
  BOOST_TEST(gap(counts.transition, brute.transition) < 1e-12);
  BOOST_TEST(gap(counts.prior, brute.prior) < 1e-12);
}

BOOST_AUTO_TEST_CASE(full_batch_em_never_lowers_the_likelihood) {
  const int32_t d = 12, values = 6;
  const auto truth = pc::Hclt::random(random_tree(d, 6), 4, values, 11);
  const auto data = sample(truth, 400, 12);
  auto model = pc::Hclt::random(truth.parent, 4, values, 13);  // same tree, other parameters
  double previous = -1e300;
  for (int step = 0; step < 15; ++step) {
    pc::EmCounts counts(model);
    pc::accumulate_counts(model, data.data(), 0, 400, counts);
    BOOST_TEST(counts.log_likelihood >= previous - 1e-9, "EM step " << step);
    previous = counts.log_likelihood;
    pc::em_update(model, counts, 1.0, 0.0);
  }
  // A step of 0 changes nothing.
  const auto before = model.emission;
  pc::EmCounts counts(model);
  pc::accumulate_counts(model, data.data(), 0, 10, counts);
  pc::em_update(model, counts, 0.0, 0.1);
  BOOST_TEST((model.emission == before));
}

BOOST_AUTO_TEST_CASE(the_pseudocount_is_spread_over_a_distributions_entries_as_pyjuice_does) {
  // One independent variable with 4 values (M = 1): a full step is (n_x + c / 4) / (N + c).
  auto model = pc::Hclt::random({-1}, 1, 4, 1);
  pc::EmCounts counts(model);
  counts.emission = {5, 0, 2, 1};
  counts.prior = {8};
  pc::em_update(model, counts, 1.0, 2.0);
  const std::vector<double> expected = {5.5 / 10, 0.5 / 10, 2.5 / 10, 1.5 / 10};
  for (int x = 0; x < 4; ++x) BOOST_TEST(std::abs(model.emission[x] - expected[x]) < 1e-15);
  // A half step moves halfway from the old distribution.
  auto half = pc::Hclt::random({-1}, 1, 4, 1);
  const auto old = half.emission;
  pc::em_update(half, counts, 0.5, 2.0);
  for (int x = 0; x < 4; ++x)
    BOOST_TEST(std::abs(half.emission[x] - (old[x] + expected[x]) / 2) < 1e-15);
}

BOOST_AUTO_TEST_CASE(the_quantized_start_gives_each_state_a_band_of_equal_mass) {
  // Two variables, 0 -> 1, 4 values each, x_1 = x_0: with 2 states, values {0, 1} start as
  // state 0 and {2, 3} as state 1 (each value a quarter of the mass), the transition follows the
  // copy, and every distribution is normalized.
  std::vector<uint8_t> data;
  for (int s = 0; s < 400; ++s) data.push_back(s % 4), data.push_back(s % 4);
  const auto c = pc::Hclt::quantized({-1, 0}, 2, 4, data.data(), 400, 5);
  const auto e = [&](int v, int z, int x) { return c.emission[(v * 2 + z) * 4 + x]; };
  for (int v = 0; v < 2; ++v) {
    // 90% on the band's values, 10% on the marginal (a quarter each, Laplace on 400 samples).
    BOOST_TEST(e(v, 0, 0) + e(v, 0, 1) > 0.9);
    BOOST_TEST(e(v, 0, 0) + e(v, 0, 1) < 0.97);
    BOOST_TEST(e(v, 1, 2) + e(v, 1, 3) > 0.9);
    for (int z = 0; z < 2; ++z)
      BOOST_TEST(std::abs(e(v, z, 0) + e(v, z, 1) + e(v, z, 2) + e(v, z, 3) - 1) < 1e-12);
  }
  // 200 samples in each band, copied: T[a][a] = (200 + 1) / (200 + 2) before the +-5% noise.
  for (int a = 0; a < 2; ++a) BOOST_TEST(c.transition[2 * 2 + a * 2 + a] > 0.98);
  BOOST_TEST(std::abs(c.prior[0] + c.prior[1] - 1) < 1e-12);
  // And it is a far better start than noise on data from a tree.
  const auto truth = pc::Hclt::random(random_tree(10, 7), 3, 8, 8);
  const auto sampled = sample(truth, 2000, 9);
  const auto start = pc::Hclt::quantized(truth.parent, 3, 8, sampled.data(), 2000, 1);
  const auto noise = pc::Hclt::random(truth.parent, 3, 8, 1);
  double quantized_ll = 0, random_ll = 0;
  for (int s = 0; s < 2000; ++s)
    quantized_ll += start.log_likelihood(&sampled[s * 10]),
        random_ll += noise.log_likelihood(&sampled[s * 10]);
  BOOST_TEST(quantized_ll > random_ll + 2000 * 0.1);
}

BOOST_AUTO_TEST_SUITE_END()
