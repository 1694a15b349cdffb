// Sweep grammar: choices, quoting, range(), glob(), the spec's sweep block and the product order.
#include "graph/sweep.h"

#include <algorithm>
#include <fstream>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "tests/support/temp_dir.h"

namespace {

using flowlab::testing::TempDir;
using Strings = std::vector<std::string>;

Strings values_of(const std::string& arg, const std::filesystem::path& configs = {}) {
  auto axis = flowlab::parse_sweep_argument(arg, configs);
  BOOST_REQUIRE(axis);
  return axis->values;
}

bool message_has(const flowlab::ConfigError& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_sweep)

BOOST_AUTO_TEST_CASE(plain_overrides_are_not_sweeps) {
  BOOST_TEST(!flowlab::parse_sweep_argument("a.b=1", {}));
  BOOST_TEST(!flowlab::parse_sweep_argument("a.b=[1,2]", {}));  // a list is one value
  BOOST_TEST(!flowlab::parse_sweep_argument("a.b='x,y'", {}));  // quoted commas are one value
  BOOST_TEST(!flowlab::parse_sweep_argument("~a.b", {}));
}

BOOST_AUTO_TEST_CASE(comma_choices_keep_quotes_and_brackets_intact) {
  BOOST_TEST(values_of("a=1,2,3") == (Strings{"1", "2", "3"}));
  BOOST_TEST(values_of("a='x,y',z") == (Strings{"'x,y'", "z"}));
  BOOST_TEST(values_of("a=[1,2],[3]") == (Strings{"[1,2]", "[3]"}));
  BOOST_TEST(values_of("a=choice(p,q)") == (Strings{"p", "q"}));
}

BOOST_AUTO_TEST_CASE(range_follows_python_semantics_with_floats_allowed) {
  BOOST_TEST(values_of("seed=range(0,3)") == (Strings{"0", "1", "2"}));
  BOOST_TEST(values_of("n=range(10,0,-4)") == (Strings{"10", "6", "2"}));
  // A float anywhere makes every value a float, computed in decimal as Hydra does.
  BOOST_TEST(values_of("x=range(0,1,0.25)") == (Strings{"0.0", "0.25", "0.5", "0.75"}));
  // Hydra's documented example: range(0,10,3.3) -> 0.0, 3.3, 6.6, 9.9.
  BOOST_TEST(values_of("x=range(0,10,3.3)") == (Strings{"0.0", "3.3", "6.6", "9.9"}));
  BOOST_TEST(values_of("x=range(1.0, 3.14)") == (Strings{"1.0", "2.0", "3.0"}));
  BOOST_TEST(values_of("seed=range(3)") == (Strings{"0", "1", "2"}));
  BOOST_TEST(values_of("seed=range(start=1, stop=4)") == (Strings{"1", "2", "3"}));
}

BOOST_AUTO_TEST_CASE(hydra_functions_shape_the_values) {
  BOOST_TEST(values_of("a=choice (a,b)") == (Strings{"a", "b"}));
  BOOST_TEST(values_of("a=sort(3,1,2)") == (Strings{"1", "2", "3"}));
  BOOST_TEST(values_of("a=sort(range(0,3),reverse=true)") == (Strings{"2", "1", "0"}));
  BOOST_TEST(values_of("a=float(1,2)") == (Strings{"1.0", "2.0"}));
  BOOST_TEST(values_of("a=str(1,2)") == (Strings{"'1'", "'2'"}));  // strings stay strings
  BOOST_TEST(values_of("a=tag(lr,choice(0.1,0.01))") == (Strings{"0.1", "0.01"}));
  Strings shuffled = values_of("a=shuffle(1,2,3,4)");
  std::sort(shuffled.begin(), shuffled.end());
  BOOST_TEST(shuffled == (Strings{"1", "2", "3", "4"}));
  BOOST_TEST(values_of("a=shuffle(1,2,3,4,seed=5)") == values_of("a=shuffle(1,2,3,4,seed=5)"));
  BOOST_TEST(values_of("a=x\\,y,z") == (Strings{"x\\,y", "z"}));
}

BOOST_AUTO_TEST_CASE(interval_is_refused_by_the_basic_sweep) {
  BOOST_CHECK_EXCEPTION(flowlab::parse_sweep_argument("a=interval(0,1)", {}), flowlab::ConfigError,
                        [](const auto& e) { return message_has(e, "interval()"); });
}

BOOST_AUTO_TEST_CASE(malformed_sweeps_are_config_errors) {
  BOOST_CHECK_EXCEPTION(flowlab::parse_sweep_argument("a=range(0,3,0)", {}), flowlab::ConfigError,
                        [](const auto& e) { return message_has(e, "step must not be 0"); });
  BOOST_CHECK_EXCEPTION(flowlab::parse_sweep_argument("a=range(5,1)", {}), flowlab::ConfigError,
                        [](const auto& e) { return message_has(e, "range() is empty"); });
  BOOST_CHECK_EXCEPTION(flowlab::parse_sweep_argument("a=range(x,3)", {}), flowlab::ConfigError,
                        [](const auto& e) { return message_has(e, "takes numbers"); });
  BOOST_CHECK_EXCEPTION(flowlab::parse_sweep_argument("a=1,,2", {}), flowlab::ConfigError,
                        [](const auto& e) { return message_has(e, "empty choice"); });
  BOOST_CHECK_EXCEPTION(flowlab::parse_sweep_argument("a=glob(*)", {}), flowlab::ConfigError,
                        [](const auto& e) { return message_has(e, "not one"); });
}

BOOST_AUTO_TEST_CASE(glob_selects_group_options_with_excludes) {
  TempDir dir;
  std::filesystem::create_directories(dir / "configs/model");
  for (const char* name : {"cnn", "lcn", "fcn", "mlp"})
    std::ofstream(dir / "configs/model" / (std::string(name) + ".yaml")) << "x: 1\n";
  BOOST_TEST(values_of("model=glob(*)", dir / "configs") == (Strings{"cnn", "fcn", "lcn", "mlp"}));
  BOOST_TEST(values_of("model=glob(*n,exclude=fcn)", dir / "configs") == (Strings{"cnn", "lcn"}));
  BOOST_TEST(values_of("model=glob(*,exclude=[fcn,mlp])", dir / "configs") ==
             (Strings{"cnn", "lcn"}));
}

BOOST_AUTO_TEST_CASE(children_are_the_product_with_the_last_axis_fastest) {
  auto e = flowlab::expand_sweep(YAML::Node(), "spec.yaml", {"x=1", "a=p,q", "b=1,2,3"}, {});
  BOOST_TEST(e.fixed == (Strings{"x=1"}));
  BOOST_REQUIRE_EQUAL(e.children.size(), 6u);
  BOOST_TEST(e.children[0] == (Strings{"x=1", "a=p", "b=1"}));
  BOOST_TEST(e.children[1] == (Strings{"x=1", "a=p", "b=2"}));
  BOOST_TEST(e.children[3] == (Strings{"x=1", "a=q", "b=1"}));
  BOOST_TEST(e.children[5] == (Strings{"x=1", "a=q", "b=3"}));
}

BOOST_AUTO_TEST_CASE(spec_sweep_block_adds_axes_and_the_command_line_wins) {
  YAML::Node block = YAML::Load("params:\n  a: p,q\n  b: [1, 2]\n  c: range(0,2)\n");
  auto e = flowlab::expand_sweep(block, "spec.yaml", {"b=7,8,9"}, {});
  // a (2) x c (2) from the spec, b (3) from the command line replacing the spec's b.
  BOOST_TEST(e.children.size() == 12u);
  BOOST_REQUIRE_EQUAL(e.axes.size(), 3u);
  BOOST_TEST(e.axes[0].key == "a");
  BOOST_TEST(e.axes[1].key == "c");
  BOOST_TEST(e.axes[2].key == "b");
  BOOST_TEST(e.axes[2].values == (Strings{"7", "8", "9"}));
  // A plain override of a swept key fixes it.
  auto fixed = flowlab::expand_sweep(block, "spec.yaml", {"a=p"}, {});
  BOOST_TEST(fixed.children.size() == 4u);
}

BOOST_AUTO_TEST_CASE(at_most_100000_children_are_expanded) {
  // The cap is on the product of the axis sizes: 1,000 x 100 = 100,000 children is allowed (all
  // of them expanded, the last one the last value of each axis) ...
  auto e = flowlab::expand_sweep(YAML::Node(), "spec.yaml",
                                 {"x=1", "a=range(0,1000)", "b=range(0,100)"}, {});
  BOOST_TEST(e.children.size() == 100000u);
  BOOST_TEST(e.children.back() == (Strings{"x=1", "a=999", "b=99"}));
  // ... and 11 x 9,091 = 100,001 is refused before anything is expanded, with the count.
  try {
    flowlab::expand_sweep(YAML::Node(), "spec.yaml", {"a=range(0,11)", "b=range(0,9091)"}, {});
    BOOST_FAIL("a sweep of 100,001 children was expanded");
  } catch (const flowlab::ConfigError& err) {
    BOOST_TEST(message_has(err, "the sweep has 100001 children; at most 100,000"), err.what());
  }
  // A spec's sweep block counts towards the same product.
  YAML::Node block = YAML::Load("params:\n  a: range(0,11)\n");
  BOOST_CHECK_THROW(flowlab::expand_sweep(block, "spec.yaml", {"b=range(0,9091)"}, {}),
                    flowlab::ConfigError);
  BOOST_TEST(flowlab::expand_sweep(block, "spec.yaml", {"b=range(0,9090)"}, {}).children.size() ==
             99990u);
}

BOOST_AUTO_TEST_CASE(a_sweep_block_that_is_not_a_mapping_names_the_spec) {
  YAML::Node block = YAML::Load("[1, 2]");
  BOOST_CHECK_EXCEPTION(
      flowlab::expand_sweep(block, "my_spec.yaml", {}, {}), flowlab::ConfigError,
      [](const auto& e) { return message_has(e, "my_spec.yaml:") && message_has(e, "sweep"); });
}

BOOST_AUTO_TEST_SUITE_END()
