// The plain Chow-Liu tree over pixels against brute force: on a tiny tree p(x) sums to 1 over
// every assignment; each conditional is the definition's smoothed ratio of counts (counted here
// independently); the codec's conditionals equal ratios of brute-force marginals of the joint
// (the local Markov property the fast path relies on); at vanishing smoothing the fit is the
// maximum-likelihood one; images round-trip through the codec; a saved tree loads back and a
// damaged one is a clear error.
#include "ops/pc/chow_liu_tree.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "ops/pc/circuit_model.h"
#include "ops/pc/codec.h"
#include "tests/support/temp_dir.h"

namespace pc = flowlab::ops::pc;

namespace {

// Samples from a random tree-structured source: each pixel copies its parent with probability
// 0.6, else draws uniformly from `values`.
std::vector<uint8_t> tree_samples(const std::vector<int32_t>& parent, int32_t values, int64_t n,
                                  uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto d = static_cast<int32_t>(parent.size());
  std::vector<uint8_t> data(n * d);
  for (int64_t s = 0; s < n; ++s)
    for (int32_t v = 0; v < d; ++v) {  // parents have lower indices here
      const bool copy = parent[v] >= 0 && std::uniform_real_distribution<>(0, 1)(rng) < 0.6;
      data[s * d + v] = copy ? data[s * d + parent[v]]
                             : static_cast<uint8_t>(rng() % static_cast<uint64_t>(values));
    }
  return data;
}

std::vector<int32_t> tree_of_size(int32_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> parent(d, -1);
  for (int32_t v = 1; v < d; ++v) parent[v] = static_cast<int32_t>(rng() % v);
  return parent;
}

// x's digits in base `values`.
void assignment(int64_t code, int32_t values, std::vector<uint8_t>& x) {
  for (auto& xi : x) xi = static_cast<uint8_t>(code % values), code /= values;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chow_liu_tree)

BOOST_AUTO_TEST_CASE(sums_to_one_and_its_conditionals_are_the_smoothed_counts) {
  const int32_t d = 7, values = 3;
  const auto parent = tree_of_size(d, 1);
  const auto data = tree_samples(parent, values, 200, 2);
  const double alpha = 2.5;
  const auto t = pc::ChowLiuTree::fit(parent, data.data(), 200, values, alpha);
  t.check();
  double total = 0;
  std::vector<uint8_t> x(d);
  for (int64_t code = 0; code < 2187; ++code) {
    assignment(code, values, x);
    total += std::exp(t.log_likelihood(x.data()));
  }
  BOOST_TEST(std::abs(total - 1) < 1e-12);
  // The definition, counted directly: p(b | a) = (n_ab + α p_v(b)) / (n_a + α).
  double worst = 0;
  std::vector<double> row(values);
  for (int32_t v = 0; v < d; ++v)
    for (int32_t a = 0; a < values; ++a) {
      t.conditional_row(v, a, row.data());
      for (int32_t b = 0; b < values; ++b) {
        double n_b = 0, n_a = 0, n_ab = 0;
        for (int s = 0; s < 200; ++s) {
          const bool is_b = data[s * d + v] == b;
          n_b += is_b;
          if (parent[v] >= 0 && data[s * d + parent[v]] == a) n_a += 1, n_ab += is_b;
        }
        const double p_b = (n_b + 1) / (200.0 + values);
        const double expected = parent[v] < 0 ? p_b : (n_ab + alpha * p_b) / (n_a + alpha);
        worst = std::max(worst, std::abs(row[b] - expected));
      }
    }
  BOOST_TEST(worst < 1e-15);
}

BOOST_AUTO_TEST_CASE(codec_conditionals_are_ratios_of_brute_force_marginals) {
  const int32_t d = 8, values = 3;
  const auto parent = tree_of_size(d, 3);
  const auto data = tree_samples(parent, values, 300, 4);
  const auto t = pc::ChowLiuTree::fit(parent, data.data(), 300, values, 1.0);
  // The joint, once, by enumeration; a marginal sums it over the unobserved variables.
  const auto count = static_cast<int64_t>(std::pow(values, d));
  std::vector<double> joint(count);
  std::vector<uint8_t> x(d);
  for (int64_t code = 0; code < count; ++code) {
    assignment(code, values, x);
    joint[code] = std::exp(t.log_likelihood(x.data()));
  }
  const auto marginal = [&](const std::vector<uint8_t>& y, const std::vector<bool>& seen) {
    double sum = 0;
    std::vector<uint8_t> z(d);
    for (int64_t code = 0; code < count; ++code) {
      assignment(code, values, z);
      bool match = true;
      for (int32_t v = 0; v < d && match; ++v) match = !seen[v] || z[v] == y[v];
      if (match) sum += joint[code];
    }
    return sum;
  };
  double worst = 0;
  for (int s = 0; s < 4; ++s) {
    std::vector<uint8_t> y(&data[s * d], &data[s * d] + d);
    const auto cond = t.conditionals(true);
    std::vector<bool> seen(d, false);
    for (int32_t k = 0; k < d; ++k) {
      const int32_t v = t.order[k];
      const auto p = cond->next();
      const double prefix = marginal(y, seen);
      seen[v] = true;
      auto probe = y;
      for (int32_t b = 0; b < values; ++b) {
        probe[v] = static_cast<uint8_t>(b);
        worst = std::max(worst, std::abs(marginal(probe, seen) / prefix - p[b]));
      }
      cond->observe(y[v]);
    }
  }
  BOOST_TEST(worst < 1e-12);
}

BOOST_AUTO_TEST_CASE(at_vanishing_smoothing_the_fit_maximizes_the_training_likelihood) {
  const int32_t d = 6, values = 4;
  const auto parent = tree_of_size(d, 5);
  const auto train = tree_samples(parent, values, 500, 6);
  const auto mle = pc::ChowLiuTree::fit(parent, train.data(), 500, values, 1e-9);
  const auto ll = [&](const pc::ChowLiuTree& t) {
    double sum = 0;
    for (int s = 0; s < 500; ++s) sum += t.log_likelihood(&train[s * d]);
    return sum;
  };
  // Other parameters on the same tree: fitted on other samples, or smoothed more.
  for (uint64_t seed : {7, 8, 9}) {
    const auto other = tree_samples(parent, values, 500, seed);
    BOOST_TEST(ll(mle) > ll(pc::ChowLiuTree::fit(parent, other.data(), 500, values, 1.0)));
  }
  BOOST_TEST(ll(mle) > ll(pc::ChowLiuTree::fit(parent, train.data(), 500, values, 5.0)));
}

BOOST_AUTO_TEST_CASE(images_round_trip_and_a_damaged_saved_tree_is_a_clear_error) {
  const int32_t d = 49;  // 7 x 7
  const auto parent = tree_of_size(d, 10);
  const auto data = tree_samples(parent, 256, 400, 11);
  pc::CircuitModel m;
  m.structure = "chow_liu", m.height = 7, m.width = 7;
  m.tree = pc::ChowLiuTree::fit(parent, data.data(), 300, 256, 4.0);
  pc::CodecOptions o;
  for (int s = 300; s < 400; ++s) {  // images the tree was not fitted on
    const uint8_t* x = &data[s * d];
    const auto words = pc::encode_image(m.model(), x, o);
    std::vector<uint8_t> back(d);
    pc::decode_image(m.model(), words.data(), words.size(), back.data(), o);
    BOOST_TEST((std::vector<uint8_t>(x, x + d) == back));
    const double information = -m.tree.log_likelihood(x) / std::log(2.0);
    const double bits = 32.0 * static_cast<double>(words.size());
    BOOST_TEST(bits >= information + 32 - 1e-6);  // as the HCLT's codec test bounds it
    BOOST_TEST(bits <= information + 96 + d * 1e-4, bits << " for " << information);
  }
  flowlab::testing::TempDir dir;
  m.save(dir.path());
  const auto back =
      std::dynamic_pointer_cast<const pc::CircuitModel>(pc::CircuitModel::load(dir.path()));
  BOOST_TEST(back->model().fingerprint() == m.model().fingerprint());
  BOOST_TEST(back->tree.log_likelihood(data.data()) == m.tree.log_likelihood(data.data()));
  // One count changed (its bytes are the last of params.bin): the rows no longer add up.
  {
    std::fstream f(dir.path() / "params.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(0x7f));
  }
  try {
    pc::CircuitModel::load(dir.path());
    BOOST_FAIL("a damaged params.bin loaded");
  } catch (const flowlab::RunError& e) {
    BOOST_TEST(std::string(e.what()).find("a parent count is not the sum of its pairs") !=
                   std::string::npos,
               e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
