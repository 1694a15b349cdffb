// Federated shards and client sampling: disjoint shards covering every example, IID sizes within
// one, Dirichlet label skew growing as alpha shrinks, round samples distinct and uniform (each
// client's frequency within 4 standard errors of K/N), all pure functions of the seed.
#include <algorithm>
#include <cmath>
#include <set>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "ops/fl/partition.h"

namespace fl = flowlab::ops::fl;

namespace {

std::vector<int64_t> labels(int64_t n, int64_t classes) {
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = i % classes;
  return y;
}

void check_disjoint_cover(const std::vector<std::vector<int64_t>>& shards, int64_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& s : shards) {
    BOOST_TEST(std::is_sorted(s.begin(), s.end()));
    for (int64_t i : s) ++seen.at(i);
  }
  BOOST_TEST(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
}

double mean_classes_per_client(const std::vector<std::vector<int64_t>>& shards,
                               const std::vector<int64_t>& y) {
  double total = 0;
  for (const auto& s : shards) {
    std::set<int64_t> classes;
    for (int64_t i : s) classes.insert(y[i]);
    total += double(classes.size());
  }
  return total / double(shards.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fl_partition)

BOOST_AUTO_TEST_CASE(iid_shards_are_disjoint_cover_everything_and_differ_in_size_by_one) {
  const auto y = labels(1003, 10);
  const auto shards = fl::partition_clients(y, 10, "iid", 0.5, 7);
  check_disjoint_cover(shards, 1003);
  size_t lo = SIZE_MAX, hi = 0;
  for (const auto& s : shards) lo = std::min(lo, s.size()), hi = std::max(hi, s.size());
  BOOST_TEST(hi - lo <= 1);
  BOOST_TEST((fl::partition_clients(y, 10, "iid", 0.5, 7) == shards));  // a function of the seed
  BOOST_TEST((fl::partition_clients(y, 10, "iid", 0.5, 8) != shards));
}

BOOST_AUTO_TEST_CASE(dirichlet_shards_cover_everything_and_skew_labels_as_alpha_shrinks) {
  const auto y = labels(6000, 10);
  const auto skewed = fl::partition_clients(y, 50, "dirichlet", 0.1, 1);
  const auto mild = fl::partition_clients(y, 50, "dirichlet", 100.0, 1);
  check_disjoint_cover(skewed, 6000);
  check_disjoint_cover(mild, 6000);
  // alpha = 100: every client sees nearly all 10 classes; alpha = 0.1: a few each.
  BOOST_TEST(mean_classes_per_client(mild, y) > 9.5);
  BOOST_TEST(mean_classes_per_client(skewed, y) < 5.0);
  BOOST_CHECK_THROW(fl::partition_clients(y, 5, "dirichlet", 0.0, 1), flowlab::RunError);
  BOOST_CHECK_THROW(fl::partition_clients(y, 5, "by_writer", 1.0, 1), flowlab::RunError);
}

BOOST_AUTO_TEST_CASE(round_samples_are_distinct_sorted_and_uniform) {
  const int64_t clients = 20, per_round = 5, rounds = 4000;
  std::vector<int> count(clients, 0);
  for (int64_t r = 1; r <= rounds; ++r) {
    const auto s = fl::sample_clients(clients, per_round, 3, r);
    BOOST_REQUIRE(s.size() == size_t(per_round));
    BOOST_TEST(std::is_sorted(s.begin(), s.end()));
    BOOST_TEST((std::adjacent_find(s.begin(), s.end()) == s.end()));
    for (int64_t c : s) ++count.at(c);
  }
  // Each client takes part with probability K/N per round: Binomial(rounds, 1/4).
  const double p = double(per_round) / clients, mean = rounds * p;
  const double sd = std::sqrt(rounds * p * (1 - p));
  for (int c : count) BOOST_TEST(std::abs(c - mean) <= 4 * sd);
  BOOST_TEST((fl::sample_clients(clients, per_round, 3, 9) ==
              fl::sample_clients(clients, per_round, 3, 9)));
  BOOST_CHECK_THROW(fl::sample_clients(4, 5, 0, 1), flowlab::RunError);
}

BOOST_AUTO_TEST_SUITE_END()
