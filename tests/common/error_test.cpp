// Tests for the error format and did-you-mean suggestions (common/error.cpp).
#include "common/error.h"

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using flowlab::closest_match;
using flowlab::ConfigError;
using flowlab::SourceLocation;

BOOST_AUTO_TEST_SUITE(common_error)

BOOST_AUTO_TEST_CASE(message_has_the_gnu_shape_with_notes_on_their_own_lines) {
  ConfigError e(SourceLocation{"experiments/q.yaml", 14, 7}, "nodes.train.params.lr",
                "expected a number > 0, got \"fast\"", {"did you mean 'lr'?"});
  BOOST_TEST(
      std::string(e.what()) ==
      "experiments/q.yaml:14:7: error: nodes.train.params.lr: expected a number > 0, got \"fast\"\n"
      "  did you mean 'lr'?");
  BOOST_TEST(e.key_path() == "nodes.train.params.lr");
  BOOST_TEST(e.message() == "expected a number > 0, got \"fast\"");
}

BOOST_AUTO_TEST_CASE(prefix_drops_unknown_parts) {
  BOOST_TEST(SourceLocation({"f.yaml", 3, 0}).prefix() == "f.yaml:3");
  BOOST_TEST(SourceLocation({"f.yaml", 0, 0}).prefix() == "f.yaml");
  BOOST_TEST(SourceLocation().prefix() == "flowlab");
  ConfigError no_path(SourceLocation{"command line", 0, 0, "override 'x=1'"}, "", "bad");
  BOOST_TEST(std::string(no_path.what()) == "command line: error: bad (override 'x=1')");
}

BOOST_AUTO_TEST_CASE(near_misses_are_suggested) {
  const std::vector<std::string> params{"lr", "epochs", "batch_size", "weight_decay"};
  BOOST_TEST(closest_match("lrr", params) == "lr");
  BOOST_TEST(closest_match("epoch", params) == "epochs");
  BOOST_TEST(closest_match("batch-size", params) == "batch_size");
  // Swapped neighbours are the commonest typo and count as one edit.
  BOOST_TEST(closest_match("epcohs", params) == "epochs");
  BOOST_TEST(closest_match("mdoe", {"mode", "model"}) == "mode");
  BOOST_TEST(closest_match("modle", {"model", "dataset"}) == "model");
}

BOOST_AUTO_TEST_CASE(far_names_are_not_suggested) {
  BOOST_TEST(closest_match("optimizer", {"lr", "epochs"}) == "");
  BOOST_TEST(closest_match("x", {}) == "");
  BOOST_TEST(flowlab::did_you_mean("zzz", {"lr"}).empty());
  BOOST_TEST(
      (flowlab::did_you_mean("lrr", {"lr"}) == std::vector<std::string>{"did you mean 'lr'?"}));
}

BOOST_AUTO_TEST_SUITE_END()
