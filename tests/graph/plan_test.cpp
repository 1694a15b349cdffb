// Tests for validation and planning (graph/plan.cpp) against the fake registry: every kind of
// user mistake yields one ConfigError naming the key path and file:line, and cache keys change
// exactly when a node's op, version, params or upstream keys change.
#include "graph/plan.h"

#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/fake_ops.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using flowlab::ConfigError;
using flowlab::Plan;
using flowlab::testing::TempDir;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

const flowlab::Registry& registry() {
  static const flowlab::Registry r = flowlab::testing::fake_registry();
  return r;
}

Plan plan_text(const std::string& yaml, const std::vector<std::string>& overrides = {},
               const flowlab::Registry& reg = registry()) {
  return flowlab::make_plan(flowlab::compose_text(yaml, "spec.yaml", {}, overrides), reg);
}

// The ConfigError message that composing + planning `yaml` throws; fails the test if none.
std::string plan_error(const std::string& yaml) {
  try {
    plan_text(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  BOOST_ERROR("no ConfigError for:\n" << yaml);
  return "";
}

const std::string& key_of(const Plan& p, const std::string& node) {
  const auto* n = p.find(node);
  BOOST_REQUIRE_MESSAGE(n, "no node " << node);
  return n->key;
}

// a -> sum <- b, and an independent c; used by the cache-key tests.
const char* kDiamond =
    "nodes:\n"
    "  a: {op: test.const, params: {value: 1}}\n"
    "  b: {op: test.const, params: {value: 2}}\n"
    "  sum: {op: test.add, inputs: {a: a, b: b}}\n"
    "  next: {op: test.follow, inputs: {x: sum}}\n"
    "  c: {op: test.const, params: {value: 3}}\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_plan)

// --- validation errors ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_op_suggests_the_closest) {
  std::string e = plan_error("nodes:\n  x:\n    op: test.ad\n");
  BOOST_TEST(starts_with(e, "spec.yaml:3:9: error: nodes.x.op: unknown op 'test.ad'"));
  BOOST_TEST(contains(e, "did you mean 'test.add'?"));
}

BOOST_AUTO_TEST_CASE(unknown_param_suggests_the_closest_and_lists_the_params) {
  std::string e =
      plan_error("nodes:\n  x:\n    op: test.schema\n    params: {size: 1, mdoe: fast}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:4:"));
  BOOST_TEST(contains(e, "error: nodes.x.params.mdoe: unknown param for op test.schema"));
  BOOST_TEST(contains(e, "did you mean 'mode'?"));
  BOOST_TEST(contains(e, "params of test.schema: size, mode, seed, lr, flag"));
}

BOOST_AUTO_TEST_CASE(word_for_a_number_is_rejected_with_the_expectation) {
  std::string e =
      plan_error("nodes:\n  x:\n    op: test.schema\n    params:\n      size: 1\n      lr: fast\n");
  BOOST_TEST(starts_with(
      e, "spec.yaml:6:11: error: nodes.x.params.lr: expected a number > 0, got \"fast\""));
}

BOOST_AUTO_TEST_CASE(quoted_number_for_an_int_is_rejected) {
  std::string e = plan_error("nodes:\n  x:\n    op: test.schema\n    params:\n      size: \"1\"\n");
  BOOST_TEST(starts_with(
      e, "spec.yaml:5:13: error: nodes.x.params.size: expected an integer in [1, 100]"));
  BOOST_TEST(contains(e, "got \"1\""));
}

BOOST_AUTO_TEST_CASE(fraction_for_an_int_is_rejected) {
  std::string e = plan_error("nodes:\n  x: {op: test.schema, params: {size: 1.5}}\n");
  BOOST_TEST(contains(e, "nodes.x.params.size: expected an integer"));
}

BOOST_AUTO_TEST_CASE(list_or_map_for_a_scalar_param_is_rejected) {
  std::string e = plan_error("nodes:\n  x: {op: test.schema, params: {size: [1]}}\n");
  BOOST_TEST(contains(e, "nodes.x.params.size: expected an integer in [1, 100], got a list"));
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_rejected) {
  BOOST_TEST(contains(plan_error("nodes:\n  x: {op: test.schema, params: {size: 101}}\n"),
                      "nodes.x.params.size: expected an integer in [1, 100], got \"101\""));
  BOOST_TEST(
      contains(plan_error("nodes:\n  x: {op: test.schema, params: {size: 0}}\n"), "got \"0\""));
  // lr has an exclusive lower bound: 0 itself is out.
  BOOST_TEST(contains(plan_error("nodes:\n  x: {op: test.schema, params: {size: 1, lr: 0}}\n"),
                      "nodes.x.params.lr: expected a number > 0, got \"0\""));
  BOOST_TEST(contains(plan_error("nodes:\n  x: {op: test.schema, params: {size: 1, lr: .nan}}\n"),
                      "nodes.x.params.lr: expected a number > 0"));
}

BOOST_AUTO_TEST_CASE(range_bounds_are_inclusive) {
  Plan p = plan_text(
      "nodes:\n  lo: {op: test.schema, params: {size: 1}}\n  hi: {op: test.schema, params: {size: "
      "100}}\n");
  BOOST_TEST(p.find("lo")->params.get_int("size") == 1);
  BOOST_TEST(p.find("hi")->params.get_int("size") == 100);
}

BOOST_AUTO_TEST_CASE(bad_choice_lists_the_choices_and_suggests) {
  std::string e = plan_error("nodes:\n  x: {op: test.schema, params: {size: 1, mode: slwo}}\n");
  BOOST_TEST(contains(e, "nodes.x.params.mode: expected one of fast, slow, exact, got \"slwo\""));
  BOOST_TEST(contains(e, "did you mean 'slow'?"));
}

BOOST_AUTO_TEST_CASE(bad_bool_is_rejected) {
  std::string e = plan_error("nodes:\n  x: {op: test.schema, params: {size: 1, flag: maybe}}\n");
  BOOST_TEST(contains(e, "nodes.x.params.flag: expected true or false, got \"maybe\""));
}

BOOST_AUTO_TEST_CASE(missing_required_param_is_reported_at_the_node) {
  std::string e = plan_error("nodes:\n  x:\n    op: test.schema\n");
  BOOST_TEST(starts_with(e, "spec.yaml:3:"));  // no params: key, so the node's location
  BOOST_TEST(contains(e, "nodes.x.params: missing required param 'size' (an integer in [1, 100])"));
}

BOOST_AUTO_TEST_CASE(unknown_input_port_suggests_the_closest) {
  std::string e = plan_error(
      "nodes:\n  a: {op: test.const}\n  s:\n    op: test.add\n    inputs: {a: a, bb: a}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:5:"));
  BOOST_TEST(contains(e, "nodes.s.inputs.bb: unknown input for op test.add"));
  BOOST_TEST(contains(e, "did you mean 'b'?"));
  BOOST_TEST(contains(e, "inputs of test.add: a (number), b (number)"));
}

BOOST_AUTO_TEST_CASE(missing_input_is_reported) {
  std::string e =
      plan_error("nodes:\n  a: {op: test.const}\n  s:\n    op: test.add\n    inputs: {a: a}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:5:"));
  BOOST_TEST(contains(e, "nodes.s.inputs: missing input 'b' (a number) for op test.add"));

  std::string none = plan_error("nodes:\n  a: {op: test.const}\n  s:\n    op: test.add\n");
  BOOST_TEST(starts_with(none, "spec.yaml:4:"));
  BOOST_TEST(contains(none, "nodes.s: missing input 'a'"));
}

BOOST_AUTO_TEST_CASE(too_many_positional_inputs_are_rejected) {
  std::string e =
      plan_error("nodes:\n  a: {op: test.const}\n  f: {op: test.follow, inputs: [a, a]}\n");
  BOOST_TEST(contains(e, "nodes.f.inputs: op test.follow takes 1 input(s), got 2"));
}

BOOST_AUTO_TEST_CASE(positional_inputs_fill_ports_in_order) {
  Plan p = plan_text(
      "nodes:\n  x: {op: test.const}\n  y: {op: test.const}\n  s: {op: test.add, inputs: [y, "
      "x]}\n");
  const auto* s = p.find("s");
  BOOST_TEST(p.nodes[s->inputs.at("a")].name == "y");
  BOOST_TEST(p.nodes[s->inputs.at("b")].name == "x");
}

BOOST_AUTO_TEST_CASE(input_naming_an_unknown_node_suggests_the_closest) {
  std::string e = plan_error(
      "nodes:\n  data: {op: test.const}\n  f:\n    op: test.follow\n    inputs: {x: dta}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:5:"));
  BOOST_TEST(contains(e, "nodes.f.inputs: input 'x' names unknown node 'dta'"));
  BOOST_TEST(contains(e, "did you mean 'data'?"));
}

BOOST_AUTO_TEST_CASE(input_of_the_wrong_type_names_both_types) {
  std::string e =
      plan_error("nodes:\n  t: {op: test.text}\n  f:\n    op: test.follow\n    inputs: {x: t}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:5:"));
  BOOST_TEST(contains(
      e,
      "nodes.f.inputs: input 'x' expects a number, but node 't' (op test.text) produces a text"));
}

BOOST_AUTO_TEST_CASE(self_loop_is_a_cycle) {
  std::string e = plan_error("nodes:\n  f:\n    op: test.follow\n    inputs: {x: f}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:4:"));
  BOOST_TEST(contains(e, "nodes.f.inputs: node 'f' reads its own output (a cycle)"));
}

BOOST_AUTO_TEST_CASE(three_node_cycle_is_named_in_data_flow_order) {
  // p feeds q, q feeds r, r feeds p; s hangs off the cycle and must not appear in it.
  std::string e = plan_error(
      "nodes:\n"
      "  s: {op: test.follow, inputs: {x: r}}\n"
      "  p: {op: test.follow, inputs: {x: r}}\n"
      "  q: {op: test.follow, inputs: {x: p}}\n"
      "  r: {op: test.follow, inputs: {x: q}}\n");
  BOOST_TEST(contains(e, "the graph has a cycle: "));
  std::string cycle = e.substr(e.find("cycle: ") + 7);
  cycle = cycle.substr(0, cycle.find('\n'));
  // Any rotation of p -> q -> r -> p is right.
  BOOST_TEST(
      (cycle == "p -> q -> r -> p" || cycle == "q -> r -> p -> q" || cycle == "r -> p -> q -> r"),
      "cycle text: " << cycle);
  BOOST_TEST(starts_with(e, "spec.yaml:"));
  BOOST_TEST(contains(e, ".inputs: the graph has a cycle"));
}

BOOST_AUTO_TEST_CASE(unknown_node_key_suggests_the_closest) {
  std::string e = plan_error("nodes:\n  x:\n    op: test.const\n    parms: {value: 1}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:4:"));
  BOOST_TEST(contains(e, "nodes.x.parms: unknown key in a node"));
  BOOST_TEST(contains(e, "did you mean 'params'?"));
}

BOOST_AUTO_TEST_CASE(node_without_op_is_rejected) {
  std::string e = plan_error("nodes:\n  x:\n    params: {value: 1}\n");
  BOOST_TEST(contains(e, "nodes.x: missing key 'op'"));
}

BOOST_AUTO_TEST_CASE(missing_or_empty_nodes_is_rejected) {
  std::string missing = plan_error("seed: 1\n");
  BOOST_TEST(starts_with(missing, "spec.yaml:1:1: error: nodes: expected a `nodes:` mapping"));
  std::string empty = plan_error("seed: 1\nnodes: {}\n");
  BOOST_TEST(starts_with(empty, "spec.yaml:2:8: error: nodes: expected a non-empty mapping"));
  std::string list = plan_error("nodes: [a, b]\n");
  BOOST_TEST(contains(list, "got a list"));
}

BOOST_AUTO_TEST_CASE(bad_node_names_are_rejected) {
  std::string e = plan_error("nodes:\n  \"a b\": {op: test.const}\n");
  BOOST_TEST(contains(e, "node names may use letters, digits"));
}

BOOST_AUTO_TEST_CASE(bad_top_level_settings_are_rejected) {
  BOOST_TEST(contains(plan_error("seed: -1\nnodes: {x: {op: test.const}}\n"),
                      "spec.yaml:1:7: error: seed: expected an integer >= 0, got \"-1\""));
  BOOST_TEST(contains(plan_error("threads: lots\nnodes: {x: {op: test.const}}\n"),
                      "threads: expected auto or an integer in [1, 1024], got \"lots\""));
  BOOST_TEST(contains(plan_error("device: gpu\nnodes: {x: {op: test.const}}\n"),
                      "device: expected one of auto, cpu, cuda, got \"gpu\""));
}

BOOST_AUTO_TEST_CASE(error_in_a_value_from_a_group_file_names_that_file_and_line) {
  TempDir dir;
  fs::create_directories(dir / "configs/model");
  std::ofstream(dir / "configs/model/cnn.yaml") << "# schema params\nsize: 5\nlr: fast\n";
  std::ofstream(dir / "spec.yaml")
      << "defaults:\n  - model@nodes.x.params: cnn\nnodes:\n  x:\n    op: test.schema\n";
  flowlab::ComposeOptions options;
  options.spec_file = dir / "spec.yaml";
  options.config_dir = dir / "configs";
  try {
    flowlab::make_plan(flowlab::compose(options), registry());
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    BOOST_TEST(
        contains(msg,
                 "configs/model/cnn.yaml:3:5: error: nodes.x.params.lr: expected a number > 0"),
        msg);
  }
}

BOOST_AUTO_TEST_CASE(error_in_an_override_value_names_the_override) {
  try {
    plan_text("nodes:\n  x: {op: test.schema, params: {size: 1}}\n", {"nodes.x.params.size=big"});
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    BOOST_TEST(starts_with(msg, "command line: error: nodes.x.params.size: expected an integer"));
    BOOST_TEST(contains(msg, "override 'nodes.x.params.size=big'"));
  }
}

// --- the plan ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(nodes_are_in_topological_order_and_linked) {
  Plan p = plan_text(
      "nodes:\n"
      "  last: {op: test.follow, inputs: {x: mid}}\n"
      "  mid: {op: test.add, inputs: {a: first, b: other}}\n"
      "  first: {op: test.const}\n"
      "  other: {op: test.const}\n");
  BOOST_REQUIRE(p.nodes.size() == 4u);
  for (size_t i = 0; i < p.nodes.size(); ++i)
    for (const auto& [port, producer] : p.nodes[i].inputs) {
      BOOST_TEST(producer < i, p.nodes[i].name << "." << port << " comes before its producer");
      const auto& consumers = p.nodes[producer].consumers;
      BOOST_TEST((std::find(consumers.begin(), consumers.end(), i) != consumers.end()));
    }
  BOOST_TEST(p.nodes.back().name == "last");
  // Independent sources keep spec order.
  BOOST_TEST(p.nodes[0].name == "first");
  BOOST_TEST(p.nodes[1].name == "other");
}

BOOST_AUTO_TEST_CASE(defaults_fill_unset_params) {
  Plan p = plan_text("nodes:\n  x: {op: test.schema, params: {size: 3}}\n");
  const auto& params = p.find("x")->params;
  BOOST_TEST(params.get_int("size") == 3);
  BOOST_TEST(params.get_string("mode") == "fast");
  BOOST_TEST(params.get_float("lr") == 0.1);
  BOOST_TEST(params.get_bool("flag") == false);
  BOOST_TEST(params.get_int("seed") == 0);
}

BOOST_AUTO_TEST_CASE(settings_are_read_from_the_top_level) {
  Plan p = plan_text(
      "experiment: demo\nseed: 7\nthreads: 3\ndevice: cpu\nnodes: {x: {op: test.const}}\n");
  BOOST_TEST(p.experiment == "demo");
  BOOST_TEST(p.seed == 7);
  BOOST_TEST(p.threads == 3);
  BOOST_TEST(p.device == "cpu");
  Plan defaults = plan_text("threads: auto\nnodes: {x: {op: test.const}}\n");
  BOOST_TEST(defaults.experiment == "spec");  // the spec file's stem
  BOOST_TEST(defaults.threads == 0);
  BOOST_TEST(defaults.device == "auto");
}

BOOST_AUTO_TEST_CASE(seed_is_inherited_from_the_spec_unless_given) {
  Plan p = plan_text(
      "seed: 7\nnodes:\n  a: {op: test.schema, params: {size: 1}}\n  b: {op: test.schema, params: "
      "{size: 1, seed: 3}}\n");
  BOOST_TEST(p.find("a")->params.get_int("seed") == 7);
  BOOST_TEST(p.find("b")->params.get_int("seed") == 3);
  // The inherited seed is part of the key: another top-level seed, another key.
  Plan other = plan_text("seed: 8\nnodes:\n  a: {op: test.schema, params: {size: 1}}\n");
  BOOST_TEST(key_of(p, "a") != key_of(other, "a"));
}

BOOST_AUTO_TEST_CASE(equal_specs_give_equal_keys) {
  Plan p1 = plan_text(kDiamond);
  Plan p2 = plan_text(kDiamond);
  for (const auto& n : p1.nodes) BOOST_TEST(key_of(p2, n.name) == n.key);
  // Keys are 128-bit hex digests and differ between distinct nodes.
  BOOST_TEST(key_of(p1, "a").size() == 32u);
  BOOST_TEST(key_of(p1, "a") != key_of(p1, "b"));
}

BOOST_AUTO_TEST_CASE(keys_do_not_depend_on_node_names_or_spelling) {
  // Same op and params under another name, with the value written differently: same output.
  Plan p1 = plan_text("nodes:\n  a: {op: test.const, params: {value: 1}}\n");
  Plan p2 = plan_text("nodes:\n  renamed: {op: test.const, params: {value: 1.0}}\n");
  BOOST_TEST(key_of(p1, "a") == key_of(p2, "renamed"));
  // An explicit default equals an omitted one.
  Plan p3 = plan_text("nodes:\n  a: {op: test.const, params: {value: 0}}\n");
  Plan p4 = plan_text("nodes:\n  a: {op: test.const}\n");
  BOOST_TEST(key_of(p3, "a") == key_of(p4, "a"));
}

BOOST_AUTO_TEST_CASE(changing_a_param_changes_that_node_and_its_dependents_only) {
  Plan before = plan_text(kDiamond);
  Plan after = plan_text(kDiamond, {"nodes.a.params.value=10"});
  BOOST_TEST(key_of(before, "a") != key_of(after, "a"));
  BOOST_TEST(key_of(before, "sum") != key_of(after, "sum"));
  BOOST_TEST(key_of(before, "next") != key_of(after, "next"));  // two hops downstream
  BOOST_TEST(key_of(before, "b") == key_of(after, "b"));
  BOOST_TEST(key_of(before, "c") == key_of(after, "c"));
}

BOOST_AUTO_TEST_CASE(swapping_inputs_between_ports_changes_the_key) {
  Plan p1 = plan_text(kDiamond);
  Plan p2 = plan_text(kDiamond, {"nodes.sum.inputs.a=b", "nodes.sum.inputs.b=a"});
  BOOST_TEST(key_of(p1, "sum") != key_of(p2, "sum"));
}

BOOST_AUTO_TEST_CASE(op_version_changes_the_key) {
  flowlab::Registry v2 = flowlab::testing::fake_registry(/*const_version=*/2);
  Plan p1 = plan_text(kDiamond);
  Plan p2 = plan_text(kDiamond, {}, v2);
  BOOST_TEST(key_of(p1, "a") != key_of(p2, "a"));
  BOOST_TEST(key_of(p1, "sum") != key_of(p2, "sum"));
  // test.follow's version did not change, but its input did.
  BOOST_TEST(key_of(p1, "next") != key_of(p2, "next"));
}

BOOST_AUTO_TEST_CASE(content_hash_is_xxh3_128) {
  // Reference digests from xxHash's own test vectors (XXH3_128bits, seed 0), high word first.
  BOOST_TEST(flowlab::content_hash("") == "99aa06d3014798d86001c324468d497f");
  // "abc": its high word starts with a zero nibble, so this also checks the padding.
  BOOST_TEST(flowlab::content_hash("abc") == "06b05ab6733a618578af5f94892f3950");
}

BOOST_AUTO_TEST_SUITE_END()
