// The planner's typed params beyond scalars and its interfaces, against the fake registry: list
// and map params (validated before anything runs, errors at the offending element's line and
// column, hashed by value), param groups (a model's own params join the node's), ports that accept
// an interface, per-node threads in the cache key, and params left out of it.
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "common/file_io.h"
#include "graph/plan.h"
#include "tests/support/fake_ops.h"
#include "tests/support/temp_dir.h"

using flowlab::ConfigError;
using flowlab::Plan;

using flowlab::testing::contains;

namespace {

const flowlab::Registry& registry() {
  static const flowlab::Registry r = flowlab::testing::fake_registry();
  return r;
}

Plan plan_text(const std::string& yaml, const std::vector<std::string>& overrides = {},
               const flowlab::Registry& reg = registry()) {
  return flowlab::make_plan(flowlab::compose_text(yaml, "spec.yaml", {}, overrides), reg);
}

std::string plan_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    plan_text(yaml, overrides);
  } catch (const ConfigError& e) {
    return e.what();
  }
  BOOST_ERROR("no ConfigError for:\n" << yaml);
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_plan_params)

BOOST_AUTO_TEST_CASE(list_and_map_params_are_typed_values) {
  Plan p = plan_text(
      "nodes:\n  l: {op: test.lists, params: {radii: [0, 0.25, 2], names: [b, a], "
      "weights: {x: 0.5, y: 1}}}\n");
  const auto& params = p.find("l")->params;
  BOOST_TEST((params.get_float_list("radii") == std::vector<double>{0, 0.25, 2}));
  BOOST_TEST((params.get_string_list("names") == std::vector<std::string>{"b", "a"}));
  BOOST_TEST(
      (params.get_float_map("weights") == std::map<std::string, double>{{"x", 0.5}, {"y", 1}}));
  // Defaults are lists too.
  Plan d = plan_text("nodes:\n  l: {op: test.lists}\n");
  BOOST_TEST((d.find("l")->params.get_float_list("radii") == std::vector<double>{0, 0.5}));
  BOOST_TEST(d.find("l")->params.get_string_list("names").empty());
}

BOOST_AUTO_TEST_CASE(a_bad_element_is_reported_at_its_own_line_and_column) {
  // Element [2] of radii, on line 5 column 9: the error points there, not at the list.
  std::string e = plan_error(
      "nodes:\n"
      "  l:\n"
      "    op: test.lists\n"
      "    params:\n"
      "      radii:\n"
      "        - 0\n"
      "        - 0.5\n"
      "        - -1\n");
  BOOST_TEST(
      contains(
          e, "spec.yaml:8:11: error: nodes.l.params.radii[2]: expected a number >= 0, got \"-1\""),
      e);
  // Flow style: the column of the element itself.
  e = plan_error("nodes:\n  l: {op: test.lists, params: {radii: [0, fast]}}\n");
  BOOST_TEST(
      contains(
          e,
          "spec.yaml:2:43: error: nodes.l.params.radii[1]: expected a number >= 0, got \"fast\""),
      e);
  e = plan_error("nodes:\n  l: {op: test.lists, params: {names: [a, c]}}\n");
  BOOST_TEST(contains(e, "nodes.l.params.names[1]: expected one of a, b, got \"c\""), e);
  e = plan_error("nodes:\n  l: {op: test.lists, params: {weights: {x: 2}}}\n");
  BOOST_TEST(contains(e, "nodes.l.params.weights.x: expected a number in [0, 1], got \"2\""), e);
}

BOOST_AUTO_TEST_CASE(the_wrong_shape_is_refused) {
  std::string e = plan_error("nodes:\n  l: {op: test.lists, params: {radii: 0.5}}\n");
  BOOST_TEST(contains(e, "nodes.l.params.radii: expected a non-empty list (a number >= 0 each"), e);
  e = plan_error("nodes:\n  l: {op: test.lists, params: {radii: []}}\n");
  BOOST_TEST(contains(e, "got an empty list"), e);
  e = plan_error("nodes:\n  l: {op: test.lists, params: {weights: [1]}}\n");
  BOOST_TEST(contains(e, "nodes.l.params.weights: expected a mapping of names to values"), e);
  e = plan_error("nodes:\n  l: {op: test.lists, params: {radii: [[1]]}}\n");
  BOOST_TEST(contains(e, "nodes.l.params.radii[0]: expected a number >= 0, got a list"), e);
}

BOOST_AUTO_TEST_CASE(lists_come_from_the_command_line_too) {
  Plan p = plan_text("nodes:\n  l: {op: test.lists}\n", {"++nodes.l.params.radii=[1,2.5]"});
  BOOST_TEST((p.find("l")->params.get_float_list("radii") == std::vector<double>{1, 2.5}));
  std::string e = plan_error("nodes:\n  l: {op: test.lists}\n", {"++nodes.l.params.radii=[1,x]"});
  BOOST_TEST(contains(e, "command line: error: nodes.l.params.radii[1]: expected a number >= 0"),
             e);
}

BOOST_AUTO_TEST_CASE(lists_and_maps_are_hashed_by_value) {
  auto key = [](const std::string& params) {
    return plan_text("nodes:\n  l: {op: test.lists, params: " + params + "}\n").find("l")->key;
  };
  BOOST_TEST(key("{radii: [0, 0.5]}") == key("{}"));                    // the default, written out
  BOOST_TEST(key("{radii: [0.0, 5e-1]}") == key("{radii: [0, 0.5]}"));  // same numbers
  BOOST_TEST(key("{radii: [0.5, 0]}") != key("{radii: [0, 0.5]}"));     // order matters
  BOOST_TEST(key("{radii: [0, 0.5, 1]}") != key("{radii: [0, 0.5]}"));
  BOOST_TEST(key("{weights: {x: 1.0}}") == key("{}"));
  BOOST_TEST(key("{weights: {x: 1, y: 0}}") != key("{}"));
  BOOST_TEST(key("{names: [a, b]}") != key("{names: [b, a]}"));
}

BOOST_AUTO_TEST_CASE(a_group_param_brings_in_the_chosen_options_params) {
  Plan p = plan_text("nodes:\n  s: {op: test.shape, params: {model: rect, w: 3, h: 4}}\n");
  const auto& params = p.find("s")->params;
  BOOST_TEST(params.get_int("w") == 3);
  BOOST_TEST(params.get_int("h") == 4);
  BOOST_TEST(!params.has("side"));
  Plan d = plan_text("nodes:\n  s: {op: test.shape}\n");  // the default option and its defaults
  BOOST_TEST(d.find("s")->params.get_int("side") == 2);
  // The option's params are validated like the op's, and hashed.
  std::string e = plan_error("nodes:\n  s: {op: test.shape, params: {side: 11}}\n");
  BOOST_TEST(
      contains(
          e,
          "spec.yaml:2:38: error: nodes.s.params.side: expected an integer in [1, 10], got \"11\""),
      e);
  e = plan_error("nodes:\n  s: {op: test.shape, params: {model: rect, side: 3}}\n");
  BOOST_TEST(contains(e, "nodes.s.params.side: unknown param for op test.shape with model rect"),
             e);
  BOOST_TEST(contains(e, "params of test.shape with model rect: model, w, h"), e);
  e = plan_error("nodes:\n  s: {op: test.shape, params: {model: rectangle}}\n");
  BOOST_TEST(
      contains(e, "nodes.s.params.model: unknown shape 'rectangle' (expected one of rect, square)"),
      e);
  e = plan_error("nodes:\n  s: {op: test.shape, params: {model: sqare}}\n");
  BOOST_TEST(contains(e, "did you mean 'square'?"), e);
  auto key = [](const std::string& params) {
    return plan_text("nodes:\n  s: {op: test.shape, params: " + params + "}\n").find("s")->key;
  };
  BOOST_TEST(key("{side: 3}") != key("{side: 2}"));
  BOOST_TEST(key("{side: 2}") == key("{}"));
}

BOOST_AUTO_TEST_CASE(a_port_declared_with_an_interface_accepts_the_types_that_implement_it) {
  Plan p = plan_text(
      "nodes:\n  a: {op: test.const, params: {value: 2}}\n  s: {op: test.numeric_sink, inputs: {x: "
      "a}}\n");
  BOOST_TEST(p.nodes.size() == 2u);
  std::string e =
      plan_error("nodes:\n  t: {op: test.text}\n  s: {op: test.numeric_sink, inputs: {x: t}}\n");
  BOOST_TEST(
      contains(e, "input 'x' expects a numeric, but node 't' (op test.text) produces a text"), e);
  BOOST_TEST(registry().accepts("numeric", "number"));
  BOOST_TEST(!registry().accepts("numeric", "text"));
  BOOST_TEST(registry().accepts("number", "number"));
}

BOOST_AUTO_TEST_CASE(threads_are_planned_per_node_and_keyed_only_where_the_op_uses_them) {
  auto key = [](const std::string& node) {
    return plan_text("nodes:\n  n: " + node + "\n").find("n")->key;
  };
  BOOST_TEST(key("{op: test.threaded, threads: 2}") == key("{op: test.threaded}"));  // its default
  BOOST_TEST(key("{op: test.threaded, threads: 1}") != key("{op: test.threaded}"));
  std::string e = plan_error("nodes:\n  n: {op: test.const, threads: 4}\n");
  BOOST_TEST(contains(e, "nodes.n.threads: op test.const uses no LibTorch threads"), e);
  e = plan_error("nodes:\n  n: {op: test.threaded, threads: 0}\n");
  BOOST_TEST(contains(e, "nodes.n.threads: expected an integer in [1, 1024], got \"0\""), e);
}

BOOST_AUTO_TEST_CASE(params_that_cannot_change_a_result_stay_out_of_the_key) {
  flowlab::Registry reg = registry();
  flowlab::OpDef op = *reg.find("test.const");
  op.name = "test.logged";
  op.params.push_back(flowlab::not_in_key(flowlab::int_param("log_every", 10, "cadence", 1.0)));
  reg.add(op);
  auto key = [&](const std::string& params) {
    return plan_text("nodes:\n  n: {op: test.logged, params: " + params + "}\n", {}, reg)
        .find("n")
        ->key;
  };
  BOOST_TEST(key("{log_every: 1}") == key("{}"));
  BOOST_TEST(key("{value: 1}") != key("{}"));
}

BOOST_AUTO_TEST_CASE(a_content_keyed_path_reruns_the_node_when_its_data_changes) {
  flowlab::Registry reg = registry();
  flowlab::OpDef op = *reg.find("test.const");
  op.name = "test.reader";
  op.params.push_back(flowlab::content_keyed(flowlab::string_param("path", "", "data")));
  reg.add(op);
  flowlab::testing::TempDir dir;
  auto key = [&](const std::filesystem::path& path) {
    return plan_text("nodes:\n  n: {op: test.reader, params: {path: '" + path.string() + "'}}\n",
                     {}, reg)
        .find("n")
        ->key;
  };
  const auto file = dir.path() / "train.txt";
  flowlab::write_text_file(file, "a\tr\tb\n");
  const auto file_key = key(file), dir_key = key(dir.path());
  BOOST_TEST(key(file) == file_key);  // the same bytes: the same key
  flowlab::write_text_file(file, "a\tr\tc\n");
  BOOST_TEST(key(file) != file_key);       // an edited file
  BOOST_TEST(key(dir.path()) != dir_key);  // ... seen through its directory too
  const auto edited = key(dir.path());
  flowlab::write_text_file(dir.path() / "test.txt", "");
  BOOST_TEST(key(dir.path()) != edited);  // a new file in the directory
}

BOOST_AUTO_TEST_CASE(device_auto_is_resolved_before_hashing) {
  flowlab::Registry reg = registry();
  flowlab::OpDef op = *reg.find("test.const");
  op.name = "test.on_device";
  op.params.push_back(flowlab::inherited(
      flowlab::string_param("device", "auto", "where", {"auto", "cpu", "cuda"})));
  reg.add(op);
  reg.set_runtime({nullptr, [](const std::string&) { return std::string("cpu"); }});
  auto node = [&](const std::string& spec) {
    return *plan_text(spec + "nodes:\n  n: {op: test.on_device}\n", {}, reg).find("n");
  };
  BOOST_TEST(node("").params.get_string("device") == "cpu");
  BOOST_TEST(node("device: auto\n").key == node("device: cpu\n").key);
  BOOST_TEST(node("device: auto\n").key != node("device: cuda\n").key);
}

BOOST_AUTO_TEST_CASE(the_registry_checks_itself) {
  BOOST_CHECK_NO_THROW(registry().check());
  flowlab::Registry reg = registry();
  flowlab::OpDef op = *reg.find("test.follow");
  op.name = "test.typo";
  op.inputs[0].type = "nubmer";
  reg.add(op);
  BOOST_CHECK_EXCEPTION(reg.check(), std::logic_error, [](const std::logic_error& e) {
    return contains(e.what(), "op 'test.typo' input 'x' names unknown type 'nubmer'");
  });
  flowlab::Registry twice = registry();
  BOOST_CHECK_THROW(twice.add_interface({"numeric", ""}), std::logic_error);
  BOOST_CHECK_THROW(twice.add_choice("shape", "", {"rect", "", {}, {}}), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
