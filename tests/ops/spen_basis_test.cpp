// The equivariant bases of SPEN's layers, checked against what defines them: every element
// commutes with relabelling (P T P^T in, P out P^T out), the invariant ones do not change, and
// each basis has its known size and is linearly independent (15 = Bell(4) independent
// equivariant maps span all of them: Maron et al.).
#include <numeric>
#include <random>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "ops/spen/basis.h"

namespace spen = flowlab::ops::spen;

namespace {

constexpr int64_t kM = 6;

// A random permutation matrix and its index form (P[i][perm[i]] = 1: node perm[i] -> i).
torch::Tensor permutation_matrix(uint64_t seed) {
  std::vector<int64_t> perm(kM);
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed);
  for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
  auto p = torch::zeros({kM, kM}, torch::kFloat64);
  for (int64_t i = 0; i < kM; ++i) p[i][perm[i]] = 1.0;
  return p;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Rank of a basis as linear maps: each element applied to 4 random inputs (one input is not
// enough: two elements may give parallel outputs for it, e.g. the diagonal's mean and the total
// mean broadcast everywhere), rows = elements, columns = all outputs flattened.
template <class Basis>
int64_t rank_of(Basis basis, std::vector<int64_t> input_shape) {
  std::vector<torch::Tensor> outputs;
  for (int k = 0; k < 4; ++k) {
    const auto out = basis(torch::randn(input_shape, torch::kFloat64));  // [1, 1, n, ...]
    outputs.push_back(out[0][0].reshape({out.size(2), -1}));
  }
  const auto rows = torch::cat(outputs, 1);
  const auto eigenvalues = at::linalg_eigvalsh(rows.matmul(rows.t()), "L");  // of the Gram matrix
  const double largest = eigenvalues.max().item<double>();
  return eigenvalues.gt(1e-12 * largest).sum().item<int64_t>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spen_basis)

BOOST_AUTO_TEST_CASE(every_basis_element_commutes_with_relabelling) {
  torch::manual_seed(0);
  const auto t = torch::randn({2, 3, kM, kM}, torch::kFloat64);
  const auto v = torch::randn({2, 3, kM}, torch::kFloat64);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const auto p = permutation_matrix(seed);
    const auto pt = p.matmul(t).matmul(p.t());  // P T P^T
    const auto pv = v.matmul(p.t());            // P v
    // 2 -> 2: op(P T P^T) = P op(T) P^T
    BOOST_TEST(max_diff(spen::basis_2_to_2(pt), p.matmul(spen::basis_2_to_2(t)).matmul(p.t())) <
               1e-6);
    // 2 -> 1 and 1 -> 1: op(.) = P op
    BOOST_TEST(max_diff(spen::basis_2_to_1(pt), spen::basis_2_to_1(t).matmul(p.t())) < 1e-6);
    BOOST_TEST(max_diff(spen::basis_1_to_1(pv), spen::basis_1_to_1(v).matmul(p.t())) < 1e-6);
    // 1 -> 2: op(P v) = P op(v) P^T
    BOOST_TEST(max_diff(spen::basis_1_to_2(pv), p.matmul(spen::basis_1_to_2(v)).matmul(p.t())) <
               1e-6);
    // 2 -> 0 and 1 -> 0: invariant
    BOOST_TEST(max_diff(spen::basis_2_to_0(pt), spen::basis_2_to_0(t)) < 1e-6);
    BOOST_TEST(max_diff(spen::basis_1_to_0(pv), spen::basis_1_to_0(v)) < 1e-6);
  }
  // The check can fail: a map that is not equivariant (keep the first row) is caught.
  const auto p = permutation_matrix(2);
  const auto first_row = [](const torch::Tensor& x) { return x.select(-2, 0); };
  BOOST_TEST(max_diff(first_row(p.matmul(t).matmul(p.t())), first_row(t).matmul(p.t())) > 1e-3);
}

BOOST_AUTO_TEST_CASE(the_bases_have_their_known_sizes_and_are_linearly_independent) {
  torch::manual_seed(1);
  const auto t = torch::randn({1, 1, kM, kM}, torch::kFloat64);
  const auto v = torch::randn({1, 1, kM}, torch::kFloat64);
  BOOST_TEST(spen::basis_2_to_2(t).size(2) == 15);
  BOOST_TEST(spen::basis_2_to_1(t).size(2) == 5);
  BOOST_TEST(spen::basis_1_to_2(v).size(2) == 5);
  BOOST_TEST(spen::basis_1_to_1(v).size(2) == 2);
  BOOST_TEST(spen::basis_2_to_0(t).size(2) == 2);
  BOOST_TEST(spen::basis_1_to_0(v).size(2) == 1);
  const std::vector<int64_t> two = {1, 1, kM, kM}, one = {1, 1, kM};
  BOOST_TEST(rank_of(spen::basis_2_to_2, two) == 15);
  BOOST_TEST(rank_of(spen::basis_2_to_1, two) == 5);
  BOOST_TEST(rank_of(spen::basis_1_to_2, one) == 5);
  BOOST_TEST(rank_of(spen::basis_1_to_1, one) == 2);
  BOOST_TEST(rank_of(spen::basis_2_to_0, two) == 2);
  // The check can fail: a duplicated element lowers the rank.
  const auto doubled = [](const torch::Tensor& x) {
    const auto b = spen::basis_2_to_1(x);
    return torch::cat({b, b.narrow(2, 0, 1)}, 2);
  };
  BOOST_TEST(rank_of(doubled, two) == 5);
  // Means, not sums: a tensor of ones gives ones wherever an element is not zero by design.
  const auto ones = torch::ones({1, 1, kM, kM}, torch::kFloat64);
  BOOST_TEST(spen::basis_2_to_2(ones).max().item<double>() == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()
