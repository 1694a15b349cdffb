// Tests for spec composition (graph/compose.cpp): the defaults list and its precedence, packages,
// group and value overrides, interpolation, YAML errors, the --cfg round trip, and that every
// value remembers the file and line it came from.
#include "graph/compose.h"

#include <stdlib.h>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/config_error.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using flowlab::ComposedSpec;
using flowlab::ComposeOptions;
using flowlab::ConfigError;
using flowlab::find_path;
using flowlab::testing::TempDir;

using flowlab::testing::write_file;

using flowlab::testing::contains;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A temporary project: configs/<group>/<option>.yaml plus a spec file written per test.
// Line numbers in these files are relied on by the location tests below.
struct ConfigTree {
  TempDir dir;
  ConfigTree() {
    write_file(dir / "configs/model/cnn.yaml",
               "# A small CNN.\n"  // line 1
               "kind: cnn\n"       // line 2
               "width: 16\n"       // line 3
               "lr: 0.5\n"         // line 4
               "layers: [1, 2, 3]\n");
    write_file(dir / "configs/model/mlp.yaml", "kind: mlp\nhidden: 64\n");
    write_file(dir / "configs/model/broken.yaml",
               "kind: broken\n"
               "# the next line points nowhere\n"
               "ref: ${model.nope}\n");  // line 3, value at column 6
    write_file(dir / "configs/optimizer/adam.yaml", "name: adam\nlr: 0.001\n");
    write_file(dir / "configs/optimizer/sgd.yaml", "name: sgd\nlr: 0.1\nmomentum: 0.9\n");
    write_file(dir / "configs/dataset/small.yaml", "# @package data.source\nsize: 100\n");
    write_file(dir / "configs/extra/globals.yaml",
               "# Top-level settings.\n# @package _global_\nseed: 42\n");
  }
  fs::path spec_path() const { return dir / "spec.yaml"; }

  ComposedSpec compose(const std::string& spec, const std::vector<std::string>& overrides = {}) {
    write_file(spec_path(), spec);
    ComposeOptions options;
    options.spec_file = spec_path();
    options.config_dir = dir / "configs";
    options.overrides = overrides;
    return flowlab::compose(options);
  }

  // The message of the ConfigError that composing throws ("" when it does not throw).
  std::string error(const std::string& spec, const std::vector<std::string>& overrides = {}) {
    return flowlab::testing::config_error_of([&] { compose(spec, overrides); });
  }
};

std::string scalar(const ComposedSpec& spec, const std::string& path) {
  YAML::Node n = find_path(spec.root, path);
  BOOST_REQUIRE_MESSAGE(n.IsDefined() && n.IsScalar(),
                        path << " is not a scalar in the composed spec");
  return n.Scalar();
}

bool has(const ComposedSpec& spec, const std::string& path) {
  return find_path(spec.root, path).IsDefined();
}

// Composes spec text without a configs/ directory (interpolation and value-override tests).
ComposedSpec compose_text(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return flowlab::compose_text(yaml, "spec.yaml", {}, overrides);
}

std::string text_error(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  return flowlab::testing::config_error_of([&] { compose_text(yaml, overrides); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_compose)

// --- defaults list and precedence --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(later_defaults_entries_win) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model@train: cnn\n  - optimizer@train: adam\n");
  BOOST_TEST(scalar(spec, "train.lr") == "0.001");  // adam came last
  BOOST_TEST(scalar(spec, "train.width") == "16");  // maps merge: cnn's other keys stay
  BOOST_TEST(scalar(spec, "train.name") == "adam");

  auto reversed = t.compose("defaults:\n  - optimizer@train: adam\n  - model@train: cnn\n");
  BOOST_TEST(scalar(reversed, "train.lr") == "0.5");
}

BOOST_AUTO_TEST_CASE(spec_keys_override_defaults_and_maps_merge) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model: cnn\nmodel:\n  width: 32\n");
  BOOST_TEST(scalar(spec, "model.width") == "32");
  BOOST_TEST(scalar(spec, "model.lr") == "0.5");
  BOOST_TEST(scalar(spec, "model.kind") == "cnn");
  BOOST_TEST(!has(spec, "defaults"));  // the defaults list is consumed
}

BOOST_AUTO_TEST_CASE(self_listed_first_lets_defaults_win) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - _self_\n  - model: cnn\nmodel:\n  width: 32\n  extra: 1\n");
  BOOST_TEST(scalar(spec, "model.width") == "16");
  BOOST_TEST(scalar(spec, "model.extra") == "1");  // keys only the spec has survive
}

BOOST_AUTO_TEST_CASE(group_choices_are_recorded_in_order) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - optimizer: sgd\n  - model: cnn\n");
  std::vector<std::pair<std::string, std::string>> expected{{"optimizer", "sgd"}, {"model", "cnn"}};
  BOOST_TEST((spec.group_choices == expected));
}

BOOST_AUTO_TEST_CASE(lists_are_replaced_not_merged) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model: cnn\nmodel:\n  layers: [9]\n");
  YAML::Node layers = find_path(spec.root, "model.layers");
  BOOST_REQUIRE(layers.IsSequence());
  BOOST_TEST(layers.size() == 1u);
  BOOST_TEST(layers[0].Scalar() == "9");

  auto overridden = t.compose("defaults:\n  - model: cnn\n", {"model.layers=[4, 5]"});
  YAML::Node l2 = find_path(overridden.root, "model.layers");
  BOOST_REQUIRE(l2.IsSequence());
  BOOST_TEST(l2.size() == 2u);
  BOOST_TEST(l2[1].Scalar() == "5");
}

BOOST_AUTO_TEST_CASE(optional_entry_with_missing_option_is_skipped) {
  ConfigTree t;
  auto spec =
      t.compose("defaults:\n  - optional model: nothing_here\n  - optional nogroup: x\na: 1\n");
  BOOST_TEST(!has(spec, "model"));
  BOOST_TEST(scalar(spec, "a") == "1");
}

// --- packages ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(group_at_package_places_the_option_under_that_path) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model@nodes.train.params: cnn\n");
  BOOST_TEST(scalar(spec, "nodes.train.params.width") == "16");
  BOOST_TEST(!has(spec, "model"));
}

BOOST_AUTO_TEST_CASE(package_header_places_a_group_file) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - dataset: small\n  - extra: globals\n");
  BOOST_TEST(scalar(spec, "data.source.size") == "100");
  BOOST_TEST(!has(spec, "dataset"));
  BOOST_TEST(scalar(spec, "seed") == "42");  // _global_: merged at the root
  BOOST_TEST(!has(spec, "extra"));
}

BOOST_AUTO_TEST_CASE(package_in_the_defaults_entry_beats_the_header) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - dataset@other: small\n");
  BOOST_TEST(scalar(spec, "other.size") == "100");
  BOOST_TEST(!has(spec, "data"));
}

// --- group overrides -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(group_override_switches_the_option) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model: cnn\n", {"model=mlp"});
  BOOST_TEST(scalar(spec, "model.kind") == "mlp");
  BOOST_TEST(!has(spec, "model.width"));  // nothing of cnn is left
  BOOST_REQUIRE(spec.group_choices.size() == 1u);
  BOOST_TEST(spec.group_choices[0].second == "mlp");
}

BOOST_AUTO_TEST_CASE(group_override_keeps_the_entry_package) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model@nodes.train.params: cnn\n", {"model=mlp"});
  BOOST_TEST(scalar(spec, "nodes.train.params.kind") == "mlp");
}

BOOST_AUTO_TEST_CASE(null_placeholder_in_defaults_can_be_filled_by_an_override) {
  // `group: null` reserves a slot that the command line fills (Hydra's placeholder).
  ConfigTree t;
  auto empty = t.compose("defaults:\n  - model: null\na: 1\n");
  BOOST_TEST(!has(empty, "model"));
  auto filled = t.compose("defaults:\n  - model: null\na: 1\n", {"model=mlp"});
  BOOST_TEST(scalar(filled, "model.kind") == "mlp");
}

BOOST_AUTO_TEST_CASE(plus_group_adds_an_entry_that_the_spec_still_overrides) {
  ConfigTree t;
  auto spec = t.compose("optimizer:\n  lr: 5\n", {"+optimizer=sgd"});
  BOOST_TEST(scalar(spec, "optimizer.name") == "sgd");
  BOOST_TEST(scalar(spec, "optimizer.momentum") == "0.9");
  BOOST_TEST(scalar(spec, "optimizer.lr") == "5");
}

BOOST_AUTO_TEST_CASE(plus_group_with_a_dotted_package_adds_it_there) {
  ConfigTree t;
  auto spec = t.compose("a: 1\n", {"+model@nodes.train.params=cnn"});
  BOOST_TEST(scalar(spec, "nodes.train.params.width") == "16");
  BOOST_TEST(!has(spec, "model"));
}

BOOST_AUTO_TEST_CASE(plus_group_on_a_listed_group_is_an_error) {
  ConfigTree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"+model=mlp"});
  BOOST_TEST(contains(e, "already in the defaults list"));
  BOOST_TEST(contains(e, "model=mlp"));
  BOOST_TEST(starts_with(e, "command line: error: model: "));
}

BOOST_AUTO_TEST_CASE(double_plus_group_is_refused_as_in_hydra) {
  // Hydra: "force-add of config groups is not supported" (tests/graph/compose_hydra_test.cpp).
  ConfigTree t;
  BOOST_TEST(contains(t.error("defaults:\n  - model: cnn\n", {"++model=mlp"}), "'++'"));
  BOOST_TEST(contains(t.error("defaults:\n  - model: cnn\n", {"++optimizer=adam"}), "'++'"));
}

BOOST_AUTO_TEST_CASE(tilde_group_drops_the_entry) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model: cnn\n  - optimizer: adam\n", {"~model"});
  BOOST_TEST(!has(spec, "model"));
  BOOST_TEST(has(spec, "optimizer"));
  BOOST_TEST(spec.group_choices.size() == 1u);

  std::string e = t.error("defaults:\n  - model: cnn\n", {"~optimizer"});
  BOOST_TEST(contains(e, "optimizer: config group is not in the defaults list"));
}

BOOST_AUTO_TEST_CASE(group_switch_for_an_unlisted_group_suggests_adding_it) {
  ConfigTree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"optimizer=sgd"});
  BOOST_TEST(contains(e, "not in the defaults list"));
  BOOST_TEST(contains(e, "+optimizer=sgd"));
}

BOOST_AUTO_TEST_CASE(unknown_group_in_defaults_suggests_the_closest) {
  ConfigTree t;
  std::string e = t.error("a: 1\ndefaults:\n  - modle: cnn\n");
  BOOST_TEST(starts_with(e, t.spec_path().string() + ":3:5: error: defaults: "));
  BOOST_TEST(contains(e, "unknown config group 'modle'"));
  BOOST_TEST(contains(e, "did you mean 'model'?"));
}

BOOST_AUTO_TEST_CASE(unknown_option_suggests_the_closest_and_lists_the_options) {
  ConfigTree t;
  std::string e = t.error("defaults:\n  - model: cnnn\n");
  BOOST_TEST(starts_with(e, t.spec_path().string() + ":2:5: error: model: "));
  BOOST_TEST(contains(e, "no option 'cnnn' in config group 'model'"));
  BOOST_TEST(contains(e, "did you mean 'cnn'?"));
  BOOST_TEST(contains(e, "available: broken, cnn, mlp"));
}

BOOST_AUTO_TEST_CASE(unknown_option_from_an_override_names_the_override) {
  ConfigTree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"model=mpl"});
  BOOST_TEST(starts_with(e, "command line: error: "));
  BOOST_TEST(contains(e, "no option 'mpl'"));
  BOOST_TEST(contains(e, "did you mean 'mlp'?"));
  BOOST_TEST(contains(e, "override 'model=mpl'"));
}

BOOST_AUTO_TEST_CASE(missing_config_dir_is_reported_for_a_defaults_list) {
  std::string e = text_error("defaults:\n  - model: cnn\n");
  BOOST_TEST(contains(e, "no configs/ directory"));
}

// --- value overrides -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(set_override_changes_an_existing_key) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model: cnn\n", {"model.width=64"});
  BOOST_TEST(scalar(spec, "model.width") == "64");
  BOOST_TEST(spec.where("model.width").file == "command line");
}

BOOST_AUTO_TEST_CASE(set_override_on_a_missing_key_suggests_plus) {
  ConfigTree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"model.widht=64"});
  BOOST_TEST(starts_with(e, "command line: error: model.widht: no such key"));
  BOOST_TEST(contains(e, "did you mean 'width'?"));
  BOOST_TEST(contains(e, "+model.widht=64"));

  std::string deep = text_error("x: 1\n", {"a.b=1"});
  BOOST_TEST(contains(deep, "a.b: no such key"));
  BOOST_TEST(contains(deep, "+a.b=1"));
}

BOOST_AUTO_TEST_CASE(plus_adds_a_new_key_and_creates_its_parents) {
  auto spec = compose_text("model:\n  width: 16\n", {"+model.depth=3", "+new.deep.key=x"});
  BOOST_TEST(scalar(spec, "model.depth") == "3");
  BOOST_TEST(scalar(spec, "model.width") == "16");
  BOOST_TEST(scalar(spec, "new.deep.key") == "x");
}

BOOST_AUTO_TEST_CASE(plus_on_an_existing_key_is_an_error) {
  std::string e = text_error("model:\n  width: 16\n", {"+model.width=3"});
  BOOST_TEST(contains(e, "model.width: key already exists"));
  BOOST_TEST(contains(e, "model.width=3"));
  BOOST_TEST(contains(e, "++model.width=3"));
}

BOOST_AUTO_TEST_CASE(plus_never_replaces_a_value_that_is_not_a_map) {
  // Adding under a scalar would silently drop it; it must be an error instead.
  std::string e = text_error("model:\n  width: 16\n", {"+model.width.x=1"});
  BOOST_TEST(contains(e, "model.width.x: "));
  BOOST_TEST(contains(e, "not a mapping"));
  std::string deeper = text_error("model: 3\n", {"++model.a.b=1"});
  BOOST_TEST(contains(deeper, "not a mapping"));
  auto ok = compose_text("model:\n  width: 16\n", {"++model.sub.x=1"});
  BOOST_TEST(scalar(ok, "model.width") == "16");
  BOOST_TEST(scalar(ok, "model.sub.x") == "1");
}

BOOST_AUTO_TEST_CASE(double_plus_adds_or_sets) {
  auto spec = compose_text("model:\n  width: 16\n", {"++model.width=3", "++model.fresh=1"});
  BOOST_TEST(scalar(spec, "model.width") == "3");
  BOOST_TEST(scalar(spec, "model.fresh") == "1");
}

BOOST_AUTO_TEST_CASE(tilde_deletes_a_key_optionally_only_if_it_has_a_value) {
  auto spec = compose_text("model:\n  width: 16\n  depth: 2\n", {"~model.width", "~model.depth=2"});
  BOOST_TEST(!has(spec, "model.width"));
  BOOST_TEST(!has(spec, "model.depth"));

  std::string wrong_value = text_error("model:\n  width: 16\n", {"~model.width=17"});
  BOOST_TEST(contains(wrong_value, "model.width: value is not '17'"));
  std::string missing = text_error("model:\n  width: 16\n", {"~model.nope"});
  BOOST_TEST(contains(missing, "model.nope: no such key"));
  BOOST_TEST(!contains(missing, "+model.nope"));  // adding is no advice for a failed delete
}

BOOST_AUTO_TEST_CASE(overrides_apply_in_order) {
  auto spec = compose_text("a: 1\n", {"a=2", "a=3"});
  BOOST_TEST(scalar(spec, "a") == "3");
}

BOOST_AUTO_TEST_CASE(override_values_are_yaml) {
  auto spec = compose_text("a: 1\nb: 1\nc: 1\n", {"a='1'", "b=null", "c={x: 1}"});
  BOOST_TEST(find_path(spec.root, "a").Tag() == "!");  // quoted: stays a string
  BOOST_TEST(find_path(spec.root, "b").IsNull());
  BOOST_TEST(scalar(spec, "c.x") == "1");
}

BOOST_AUTO_TEST_CASE(malformed_override_value_is_reported) {
  std::string e = text_error("a: 1\n", {"a=[1, 2"});
  BOOST_TEST(contains(e, "expected ',' or ']' in the list, got the end"), e);
  BOOST_TEST(starts_with(e, "command line"));
}

// --- interpolation -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(scalar_interpolation_keeps_the_type) {
  auto spec = compose_text("a:\n  lr: 0.1\nb: ${a.lr}\nq: \"7\"\nr: ${q}\n");
  BOOST_TEST(scalar(spec, "b") == "0.1");
  BOOST_TEST(find_path(spec.root, "b").Tag() != "!");  // still a number for the planner
  BOOST_TEST(find_path(spec.root, "r").Tag() == "!");  // and a quoted string stays one
}

BOOST_AUTO_TEST_CASE(embedded_interpolation_builds_a_string) {
  auto spec = compose_text("seed: 3\na:\n  lr: 0.1\nname: run-${seed}-lr${a.lr}\n");
  BOOST_TEST(scalar(spec, "name") == "run-3-lr0.1");
}

BOOST_AUTO_TEST_CASE(whole_node_interpolation_copies_a_map) {
  auto spec = compose_text("model:\n  width: 16\n  twice: ${model.width}\nparams: ${model}\n");
  YAML::Node params = find_path(spec.root, "params");
  BOOST_REQUIRE(params.IsMap());
  BOOST_TEST(scalar(spec, "params.width") == "16");
  BOOST_TEST(scalar(spec, "params.twice") == "16");  // interpolations inside the copy resolved
  // A copy, not an alias: changing it leaves the original alone.
  params["width"] = 99;
  BOOST_TEST(scalar(spec, "model.width") == "16");
}

BOOST_AUTO_TEST_CASE(chained_interpolations_resolve) {
  auto spec = compose_text("a: ${b}\nb: ${c}\nc: 5\nd: x${a}\n");
  BOOST_TEST(scalar(spec, "a") == "5");
  BOOST_TEST(scalar(spec, "b") == "5");
  BOOST_TEST(scalar(spec, "d") == "x5");
}

BOOST_AUTO_TEST_CASE(interpolation_sees_the_overridden_value) {
  auto spec = compose_text("lr: 0.1\nb: ${lr}\n", {"lr=0.5"});
  BOOST_TEST(scalar(spec, "b") == "0.5");
}

BOOST_AUTO_TEST_CASE(interpolation_cycle_is_an_error_naming_the_cycle) {
  std::string e = text_error("x: 1\na: ${b}\nb: ${a}\n");
  BOOST_TEST(contains(e, "interpolation cycle"));
  BOOST_TEST((contains(e, "a -> b") || contains(e, "b -> a")));
  BOOST_TEST(starts_with(e, "spec.yaml:"));

  std::string self = text_error("a: ${a}\n");
  BOOST_TEST(contains(self, "interpolation cycle: a -> a"));

  std::string longer = text_error("a: ${b}\nb: ${c}\nc: x-${a}\n");
  BOOST_TEST(contains(longer, "interpolation cycle"));
  BOOST_TEST(contains(longer, "c"));
}

BOOST_AUTO_TEST_CASE(missing_interpolation_target_names_the_key_path_and_suggests) {
  std::string e = text_error("model:\n  width: 16\nsize: ${model.widht}\n");
  BOOST_TEST(starts_with(e, "spec.yaml:3:7: error: size: "));
  BOOST_TEST(contains(e, "${model.widht}: no such key"));
  BOOST_TEST(contains(e, "did you mean 'width'?"));
}

BOOST_AUTO_TEST_CASE(embedding_a_map_in_a_string_is_an_error) {
  std::string e = text_error("model:\n  width: 16\nname: run-${model}\n");
  BOOST_TEST(contains(e, "name: ${model} is not a scalar"));
}

BOOST_AUTO_TEST_CASE(unterminated_interpolation_is_an_error) {
  std::string e = text_error("a: 1\nname: run-${a\n");
  BOOST_TEST(contains(e, "unterminated"));
}

BOOST_AUTO_TEST_CASE(env_interpolation_reads_the_environment_with_defaults) {
  setenv("FLOWLAB_TEST_ENV_SET", "abc", 1);
  unsetenv("FLOWLAB_TEST_ENV_UNSET");
  auto spec = compose_text(
      "a: ${oc.env:FLOWLAB_TEST_ENV_SET}\n"
      "b: ${oc.env:FLOWLAB_TEST_ENV_UNSET,7}\n"
      "c: /data/${oc.env:FLOWLAB_TEST_ENV_SET}/x\n"
      "d: ${oc.env:FLOWLAB_TEST_ENV_SET,ignored}\n");
  BOOST_TEST(scalar(spec, "a") == "abc");
  BOOST_TEST(scalar(spec, "b") == "7");
  BOOST_TEST(scalar(spec, "c") == "/data/abc/x");
  BOOST_TEST(scalar(spec, "d") == "abc");

  std::string e = text_error("a: ${oc.env:FLOWLAB_TEST_ENV_UNSET}\n");
  BOOST_TEST(contains(e, "a: environment variable FLOWLAB_TEST_ENV_UNSET is not set"));
  unsetenv("FLOWLAB_TEST_ENV_SET");
}

// --- YAML errors and locations -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(malformed_spec_yaml_names_file_line_and_column) {
  ConfigTree t;
  std::string e = t.error("a: 1\nb: [1, 2\nc: 3\n");
  BOOST_TEST(starts_with(e, t.spec_path().string() + ":"));
  BOOST_TEST(contains(e, ": error: malformed YAML"));
  // file:line:col: both numbers present
  std::string rest = e.substr(t.spec_path().string().size() + 1);
  size_t colon = rest.find(':');
  BOOST_REQUIRE(colon != std::string::npos);
  BOOST_TEST(std::stoi(rest.substr(0, colon)) >= 2);  // the error is not on line 1
  BOOST_TEST(std::isdigit(static_cast<unsigned char>(rest[colon + 1])));
}

BOOST_AUTO_TEST_CASE(malformed_group_file_names_that_file) {
  ConfigTree t;
  write_file(t.dir / "configs/model/bad.yaml", "kind: bad\nwidth: [1,\n");
  std::string e = t.error("defaults:\n  - model: bad\n");
  BOOST_TEST(contains(e, "model/bad.yaml:"));
  BOOST_TEST(contains(e, "malformed YAML"));
  BOOST_TEST(!starts_with(e, t.spec_path().string()));
}

BOOST_AUTO_TEST_CASE(missing_spec_file_is_a_config_error) {
  ComposeOptions options;
  options.spec_file = "/nonexistent/flowlab/spec.yaml";
  BOOST_CHECK_THROW(flowlab::compose(options), ConfigError);
}

BOOST_AUTO_TEST_CASE(top_level_list_is_rejected) {
  BOOST_TEST(contains(text_error("- a\n- b\n"), "expected a mapping at the top of the spec"));
}

BOOST_AUTO_TEST_CASE(values_remember_the_group_file_and_line) {
  ConfigTree t;
  auto spec = t.compose("defaults:\n  - model: cnn\nmodel:\n  lr: 0.2\n");
  auto width = spec.where("model.width");
  BOOST_TEST(ends_with(width.file, "configs/model/cnn.yaml"));
  BOOST_TEST(width.line == 3);
  BOOST_TEST(width.column == 8);
  auto second_layer = spec.where("model.layers[1]");
  BOOST_TEST(ends_with(second_layer.file, "configs/model/cnn.yaml"));
  BOOST_TEST(second_layer.line == 5);
  // The spec's own value replaced cnn's, so its location moved too.
  auto lr = spec.where("model.lr");
  BOOST_TEST(lr.file == t.spec_path().string());
  BOOST_TEST(lr.line == 4);
}

BOOST_AUTO_TEST_CASE(missing_key_is_located_at_its_parent) {
  ConfigTree t;
  auto spec = t.compose("a: 1\nmodel:\n  width: 3\n");
  auto loc = spec.where("model.width.nothing.here");
  BOOST_TEST(loc.line == 3);
  BOOST_TEST(loc.file == t.spec_path().string());
}

BOOST_AUTO_TEST_CASE(error_in_a_group_file_value_names_that_file_and_line) {
  ConfigTree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"model=broken"});
  BOOST_TEST(contains(e, "configs/model/broken.yaml:3:6: error: model.ref: "));
  BOOST_TEST(contains(e, "${model.nope}: no such key"));
  BOOST_TEST(!contains(e, t.spec_path().string() + ":"));
}

// --- the --cfg output ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(to_yaml_round_trips_the_composed_spec) {
  ConfigTree t;
  auto spec = t.compose(
      "defaults:\n  - model: cnn\n  - optimizer@model.opt: sgd\n"
      "seed: 3\n"
      "name: run-${seed}\n"
      "label: \"1\"\n"  // a string that looks like a number
      "flag: 'true'\n"  // and one that looks like a bool
      "empty: ''\n"
      "nothing: null\n"
      "copy: ${model.opt}\n",
      {"model.width=64"});
  std::string text = spec.to_yaml();
  BOOST_TEST(!contains(text, "defaults"));

  write_file(t.dir / "again.yaml", text);
  ComposeOptions options;
  options.spec_file = t.dir / "again.yaml";
  options.config_dir = t.dir / "configs";
  ComposedSpec again = flowlab::compose(options);
  BOOST_TEST((flowlab::flatten(again.root) == flowlab::flatten(spec.root)));
  BOOST_TEST(scalar(again, "model.width") == "64");
  BOOST_TEST(scalar(again, "copy.momentum") == "0.9");
  // Types survive: quoted strings stay strings, numbers stay plain.
  for (const char* key : {"label", "flag", "empty"})
    BOOST_TEST(find_path(again.root, key).Tag() == "!", key << " lost its quotes");
  BOOST_TEST(find_path(again.root, "seed").Tag() != "!");
  BOOST_TEST(find_path(again.root, "nothing").IsNull());
}

BOOST_AUTO_TEST_CASE(flatten_lists_leaves_with_dotted_paths) {
  auto spec = compose_text("a:\n  b: 1\n  c: [1, 2]\nd: null\n");
  auto flat = flowlab::flatten(spec.root);
  std::map<std::string, std::string> expected{{"a.b", "1"}, {"a.c", "[1, 2]"}, {"d", "null"}};
  BOOST_TEST((flat == expected));
}

BOOST_AUTO_TEST_SUITE_END()
