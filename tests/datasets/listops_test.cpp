// ListOps: every generated label equals an independent stack evaluation of its tokens, lengths
// keep their bounds, the operators follow their definitions on hand-written expressions, and a
// seed gives the same data.
#include "datasets/listops.h"

#include <algorithm>
#include <random>

#include <boost/test/unit_test.hpp>

#include "common/error.h"

namespace lo = flowlab::datasets::listops;

BOOST_AUTO_TEST_SUITE(datasets_listops)

BOOST_AUTO_TEST_CASE(operators_follow_their_definitions) {
  // [MAX 2 9 [MIN 4 7 ] 0 ] = 9
  BOOST_TEST(lo::evaluate({lo::kMax, 2, 9, lo::kMin, 4, 7, lo::kClose, 0, lo::kClose}) == 9);
  BOOST_TEST(lo::evaluate({lo::kMin, 5, 3, 8, lo::kClose}) == 3);
  BOOST_TEST(lo::evaluate({lo::kSm, 9, 8, 7, lo::kClose}) == 4);  // 24 mod 10
  BOOST_TEST(lo::evaluate({lo::kMed, 1, 9, 4, lo::kClose}) == 4);
  BOOST_TEST(lo::evaluate({lo::kMed, 1, 4, 9, 8, lo::kClose}) == 6);  // (4 + 8) / 2
  BOOST_TEST(lo::evaluate({lo::kMed, 2, 5, lo::kClose}) == 3);        // 3.5 rounded down
  BOOST_TEST(lo::evaluate({7, lo::kPad, lo::kPad}) == 7);
  BOOST_TEST(lo::to_text({lo::kMax, 2, lo::kClose}) == "[MAX 2 ]");
  BOOST_CHECK_THROW(lo::evaluate({lo::kMax, 2}), flowlab::RunError);
  BOOST_CHECK_THROW(lo::evaluate({lo::kClose}), flowlab::RunError);
  BOOST_CHECK_THROW(lo::evaluate({3, 4}), flowlab::RunError);
}

BOOST_AUTO_TEST_CASE(generated_labels_are_the_values_of_their_expressions) {
  lo::Options o;
  o.max_length = 200;
  o.min_length = 20;
  std::mt19937_64 rng(1);
  std::vector<int> counts(10, 0);
  int operators = 0;
  for (int i = 0; i < 2000; ++i) {
    const lo::Example e = lo::generate(o, rng);
    BOOST_TEST(e.tokens.size() >= 20u);
    BOOST_TEST(e.tokens.size() <= 200u);
    BOOST_TEST(lo::evaluate(e.tokens) == e.value, lo::to_text(e.tokens));
    ++counts[e.value];
    for (int64_t t : e.tokens) operators += t >= lo::kMin && t <= lo::kSm;
  }
  // Every class occurs, none dominates everything (LRA's majority baseline is ~17-20 %).
  for (int c : counts) BOOST_TEST(c > 0);
  BOOST_TEST(*std::max_element(counts.begin(), counts.end()) < 1000);
  BOOST_TEST(operators > 2000);
}

BOOST_AUTO_TEST_CASE(depth_and_arity_stay_within_their_limits) {
  lo::Options o;
  o.max_depth = 3;
  o.max_args = 4;
  o.max_length = 1000;
  std::mt19937_64 rng(2);
  for (int i = 0; i < 500; ++i) {
    const lo::Example e = lo::generate(o, rng);
    int depth = 0, deepest = 0;
    std::vector<int> args;
    for (int64_t t : e.tokens) {
      if (t >= lo::kMin && t <= lo::kSm) {
        if (!args.empty()) ++args.back();
        args.push_back(0);
        deepest = std::max(deepest, ++depth);
      } else if (t == lo::kClose) {
        BOOST_TEST(args.back() >= 2);
        BOOST_TEST(args.back() <= 4);
        args.pop_back();
        --depth;
      } else if (!args.empty()) {
        ++args.back();
      }
    }
    BOOST_TEST(deepest <= 2);  // operators at depths 1 and 2; depth 3 holds digits only
  }
}

BOOST_AUTO_TEST_CASE(a_seed_gives_the_same_expressions) {
  lo::Options o;
  std::mt19937_64 a(5), b(5), c(6);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    auto ea = lo::generate(o, a), eb = lo::generate(o, b), ec = lo::generate(o, c);
    BOOST_TEST(ea.tokens == eb.tokens);
    differs |= ea.tokens != ec.tokens;
  }
  BOOST_TEST(differs);
}

BOOST_AUTO_TEST_SUITE_END()
