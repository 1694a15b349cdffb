// Hydra conformance of composition (graph/compose.cpp), issue 10 items 1 and 2:
//   - `group@package` overrides select the defaults-list entry with that package, as Hydra's
//     defaults list does (hydra/_internal/defaults_list.py, website/docs/advanced/
//     overriding_packages.md "Using a config group more than once", tests/test_compose.py);
//   - dict overrides merge into the existing value as OmegaConf.update(cfg, key, value,
//     merge=True) does under Hydra's struct mode. The expected values of the merge cases were
//     produced with OmegaConf 2.2.2 (python3-omegaconf): OmegaConf.set_struct(cfg, True), then
//     OmegaConf.update(cfg, key, value, merge=True, force_add=<'+'/'++'>).
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "graph/compose.h"
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

// configs/model/{cnn,mlp}.yaml and a spec that uses group `model` three times, like
// experiments/certify_compare.yaml.
const char* kThreeModels =
    "defaults:\n"
    "  - model@nodes.train.params: cnn\n"
    "  - model@nodes.train_odd.params: cnn\n"
    "  - model@nodes.train_even.params: cnn\n"
    "  - _self_\n"
    "nodes:\n"
    "  train: {op: t, params: {epochs: 1}}\n"
    "  train_odd: {op: t, params: {epochs: 2}}\n"
    "  train_even: {op: t, params: {epochs: 3}}\n";

struct Tree {
  TempDir dir;
  Tree() {
    write_file(dir / "configs/model/cnn.yaml", "kind: cnn\nwidth: 16\n");
    write_file(dir / "configs/model/mlp.yaml", "kind: mlp\nhidden: 64\n");
    write_file(dir / "configs/optimizer/adam.yaml", "name: adam\n");
  }
  ComposedSpec compose(const std::string& spec, const std::vector<std::string>& overrides = {},
                       std::function<bool(const std::string&, const std::string&)> declared = {}) {
    write_file(dir / "spec.yaml", spec);
    ComposeOptions options;
    options.spec_file = dir / "spec.yaml";
    options.config_dir = dir / "configs";
    options.overrides = overrides;
    options.declared_param = std::move(declared);
    return flowlab::compose(options);
  }
  std::string error(const std::string& spec, const std::vector<std::string>& overrides) {
    return flowlab::testing::config_error_of([&] { compose(spec, overrides); });
  }
};

std::string scalar(const ComposedSpec& spec, const std::string& path) {
  YAML::Node n = find_path(spec.root, path);
  BOOST_REQUIRE_MESSAGE(n.IsDefined() && n.IsScalar(), path << " is not a scalar");
  return n.Scalar();
}

bool has(const ComposedSpec& spec, const std::string& path) {
  return find_path(spec.root, path).IsDefined();
}

ComposedSpec text(const std::string& yaml, const std::vector<std::string>& overrides) {
  return flowlab::compose_text(yaml, "spec.yaml", {}, overrides);
}

std::string text_error(const std::string& yaml, const std::vector<std::string>& overrides) {
  return flowlab::testing::config_error_of([&] { text(yaml, overrides); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_compose_hydra)

// --- group@package -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(group_at_package_switches_only_the_entry_with_that_package) {
  Tree t;
  auto spec = t.compose(kThreeModels, {"model@nodes.train_odd.params=mlp"});
  BOOST_TEST(scalar(spec, "nodes.train_odd.params.kind") == "mlp");
  BOOST_TEST(!has(spec, "nodes.train_odd.params.width"));
  BOOST_TEST(scalar(spec, "nodes.train_odd.params.epochs") == "2");
  BOOST_TEST(scalar(spec, "nodes.train.params.kind") == "cnn");
  BOOST_TEST(scalar(spec, "nodes.train_even.params.kind") == "cnn");
}

BOOST_AUTO_TEST_CASE(a_quoted_option_names_the_option_itself) {
  // Hydra's grammar: 'mlp' and "mlp" are the string mlp, as is mlp.
  Tree t;
  for (const char* o :
       {"model@nodes.train_odd.params='mlp'", "model@nodes.train_odd.params=\"mlp\""}) {
    auto spec = t.compose(kThreeModels, {o});
    BOOST_TEST(scalar(spec, "nodes.train_odd.params.kind") == "mlp", o);
  }
}

BOOST_AUTO_TEST_CASE(tilde_group_at_package_deletes_only_that_entry) {
  Tree t;
  auto spec = t.compose(kThreeModels, {"~model@nodes.train_even.params"});
  BOOST_TEST(!has(spec, "nodes.train_even.params.kind"));
  BOOST_TEST(scalar(spec, "nodes.train_even.params.epochs") == "3");
  BOOST_TEST(scalar(spec, "nodes.train.params.kind") == "cnn");
  BOOST_TEST(scalar(spec, "nodes.train_odd.params.kind") == "cnn");
}

BOOST_AUTO_TEST_CASE(a_package_that_no_entry_has_is_an_error_listing_the_entries) {
  Tree t;
  std::string e = t.error(kThreeModels, {"model@wrong=mlp"});
  BOOST_TEST(contains(e, "command line: error: model@wrong: "), e);
  BOOST_TEST(contains(e, "no defaults-list entry"), e);
  BOOST_TEST(contains(e, "model@nodes.train.params"), e);
  BOOST_TEST(contains(e, "model@nodes.train_even.params"), e);
  BOOST_TEST(contains(e, "override 'model@wrong=mlp'"), e);
  // The same for a delete.
  std::string d = t.error(kThreeModels, {"~model@nodes.nope.params"});
  BOOST_TEST(contains(d, "no defaults-list entry"), d);
}

BOOST_AUTO_TEST_CASE(a_plain_group_with_several_entries_is_ambiguous) {
  Tree t;
  std::string e = t.error(kThreeModels, {"model=mlp"});
  BOOST_TEST(contains(e, "model: ambiguous"), e);
  for (const char* entry : {"model@nodes.train.params", "model@nodes.train_odd.params",
                            "model@nodes.train_even.params"})
    BOOST_TEST(contains(e, entry), e);
  BOOST_TEST(contains(e, "model@nodes.train.params=mlp"), e);  // how to name one
  BOOST_TEST(contains(t.error(kThreeModels, {"~model"}), "ambiguous"));
}

BOOST_AUTO_TEST_CASE(a_plain_group_with_one_entry_selects_it_whatever_its_package) {
  // flowlab's convenience (Hydra would ask for model@nodes.train.params=mlp): one entry of the
  // group, so there is nothing to choose between.
  Tree t;
  auto spec = t.compose("defaults:\n  - model@nodes.train.params: cnn\n", {"model=mlp"});
  BOOST_TEST(scalar(spec, "nodes.train.params.kind") == "mlp");
  auto gone = t.compose("defaults:\n  - model@nodes.train.params: cnn\n", {"~model"});
  BOOST_TEST(!has(gone, "nodes.train.params"));
}

BOOST_AUTO_TEST_CASE(the_entry_without_a_package_is_the_plain_group) {
  // Hydra's override key is the group alone when the entry's package is the group's default.
  Tree t;
  const char* spec = "defaults:\n  - model: cnn\n  - model@other: cnn\n";
  auto s = t.compose(spec, {"model=mlp"});
  BOOST_TEST(scalar(s, "model.kind") == "mlp");
  BOOST_TEST(scalar(s, "other.kind") == "cnn");
  auto same = t.compose(spec, {"model@model=mlp"});  // @<default package> is the same entry
  BOOST_TEST(scalar(same, "model.kind") == "mlp");
  auto o = t.compose(spec, {"model@other=mlp"});
  BOOST_TEST(scalar(o, "model.kind") == "cnn");
  BOOST_TEST(scalar(o, "other.kind") == "mlp");
}

BOOST_AUTO_TEST_CASE(tilde_group_with_an_option_that_is_not_selected_is_an_error) {
  Tree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"~model=mlp"});
  BOOST_TEST(contains(e, "model: "), e);
  BOOST_TEST(contains(e, "selects 'cnn', not 'mlp'"), e);
  auto spec = t.compose("defaults:\n  - model: cnn\n", {"~model=cnn"});
  BOOST_TEST(!has(spec, "model"));
  std::string pkg = t.error(kThreeModels, {"~model@nodes.train.params=mlp"});
  BOOST_TEST(contains(pkg, "selects 'cnn', not 'mlp'"), pkg);
}

BOOST_AUTO_TEST_CASE(force_add_of_a_config_group_is_refused_as_in_hydra) {
  // Hydra: "force-add of config groups is not supported: '++group=a1'".
  Tree t;
  std::string e = t.error("defaults:\n  - model: cnn\n", {"++model=mlp"});
  BOOST_TEST(contains(e, "'++' does not apply to config groups"), e);
  BOOST_TEST(contains(e, "model=mlp"), e);
  BOOST_TEST(contains(e, "+model=mlp"), e);
  BOOST_TEST(!t.error("a: 1\n", {"++optimizer=adam"}).empty());
}

BOOST_AUTO_TEST_CASE(plus_group_at_a_new_package_adds_another_entry) {
  Tree t;
  auto spec = t.compose(kThreeModels, {"+model@nodes.extra.params=mlp"});
  BOOST_TEST(scalar(spec, "nodes.extra.params.kind") == "mlp");
  BOOST_TEST(scalar(spec, "nodes.train.params.kind") == "cnn");
  std::string e = t.error(kThreeModels, {"+model@nodes.train.params=mlp"});
  BOOST_TEST(contains(e, "already in the defaults list"), e);
  BOOST_TEST(contains(e, "model@nodes.train.params=mlp"), e);
}

BOOST_AUTO_TEST_CASE(group_choices_name_a_repeated_group_by_its_package) {
  Tree t;
  auto spec = t.compose(kThreeModels + std::string(), {"model@nodes.train_odd.params=mlp"});
  std::vector<std::pair<std::string, std::string>> expected{
      {"model@nodes.train.params", "cnn"},
      {"model@nodes.train_odd.params", "mlp"},
      {"model@nodes.train_even.params", "cnn"}};
  BOOST_TEST((spec.group_choices == expected));
  // A group used once keeps its plain name ("defaults.model" in the recorded params).
  auto one = t.compose("defaults:\n  - model@nodes.train.params: cnn\n");
  BOOST_REQUIRE(one.group_choices.size() == 1u);
  BOOST_TEST(one.group_choices[0].first == "model");
}

BOOST_AUTO_TEST_CASE(certify_compare_switches_and_drops_the_named_trainer_model) {
  // The reproduction on the shipped spec.
  fs::path spec_file = fs::path(FLOWLAB_SOURCE_DIR) / "experiments" / "certify_compare.yaml";
  ComposeOptions options;
  options.spec_file = spec_file;
  options.overrides = {"model@nodes.train_odd.params=mlp", "~model@nodes.train_even.params"};
  ComposedSpec spec = flowlab::compose(options);
  BOOST_TEST(scalar(spec, "nodes.train_odd.params.model") == "mlp");
  BOOST_TEST(scalar(spec, "nodes.train.params.model") == "cnn");
  BOOST_TEST(!has(spec, "nodes.train_even.params.model"));
  BOOST_TEST(scalar(spec, "nodes.train_even.params.pixels") == "checkerboard_even");

  options.overrides = {"model=mlp"};
  std::string e;
  try {
    flowlab::compose(options);
  } catch (const ConfigError& err) {
    e = err.what();
  }
  BOOST_TEST(contains(e, "ambiguous"), e);
}

BOOST_AUTO_TEST_CASE(a_nested_group_is_switched_by_its_slash_path) {
  // Hydra's nested config groups: configs/server/db/{mysql,postgresql}.yaml are the options of
  // group server/db, whose default package is server.db; `server/db=postgresql` switches it.
  Tree t;
  write_file(t.dir / "configs/server/db/mysql.yaml", "driver: mysql\nport: 3306\n");
  write_file(t.dir / "configs/server/db/postgresql.yaml", "driver: postgresql\nuser: pg\n");
  const char* spec = "defaults:\n  - server/db: mysql\n  - _self_\nserver:\n  name: web\n";
  auto mysql = t.compose(spec);
  BOOST_TEST(scalar(mysql, "server.db.driver") == "mysql");
  BOOST_TEST(scalar(mysql, "server.name") == "web");
  auto pg = t.compose(spec, {"server/db=postgresql"});
  BOOST_TEST(scalar(pg, "server.db.driver") == "postgresql");
  BOOST_TEST(scalar(pg, "server.db.user") == "pg");
  BOOST_TEST(!has(pg, "server.db.port"));
  BOOST_TEST(scalar(pg, "server.name") == "web");
  auto gone = t.compose(spec, {"~server/db"});
  BOOST_TEST(!has(gone, "server.db"));
  auto added = t.compose("a: 1\n", {"+server/db=mysql"});
  BOOST_TEST(scalar(added, "server.db.port") == "3306");
  std::string e = t.error(spec, {"server/db=oracle"});
  BOOST_TEST(contains(e, "no option 'oracle'"), e);
  // @server.db is the group's default package, so it names the same entry.
  auto same = t.compose(spec, {"server/db@server.db=postgresql"});
  BOOST_TEST(scalar(same, "server.db.driver") == "postgresql");
  // A defaults entry written as one path: the group is all but the last part.
  auto path = t.compose("defaults:\n  - server/db/postgresql\n");
  BOOST_TEST(scalar(path, "server.db.driver") == "postgresql");
}

// --- dict overrides merge ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(dict_override_merges_into_the_existing_map) {
  auto spec = text("nodes:\n  train:\n    params: {epochs: 3, lr: 0.1, model: cnn}\n",
                   {"nodes.train.params={epochs: 5}"});
  BOOST_TEST(scalar(spec, "nodes.train.params.epochs") == "5");
  BOOST_TEST(scalar(spec, "nodes.train.params.lr") == "0.1");
  BOOST_TEST(scalar(spec, "nodes.train.params.model") == "cnn");
}

BOOST_AUTO_TEST_CASE(force_added_dict_then_set_dict_merge) {
  // Hydra's test: ++test.x={a: 10, b: null} test.x={b: 20} gives {a: 10, b: 20}.
  auto spec = text("test: {}\n", {"++test.x={a: 10, b: null}", "test.x={b: 20}"});
  BOOST_TEST(scalar(spec, "test.x.a") == "10");
  BOOST_TEST(scalar(spec, "test.x.b") == "20");
  BOOST_TEST(find_path(spec.root, "test.x").size() == 2u);
}

BOOST_AUTO_TEST_CASE(dict_override_merges_deeply_and_a_scalar_replaces_a_map) {
  // {p: {a: {b: 1, c: 2}}} p={a: {b: 5}} -> {p: {a: {b: 5, c: 2}}}; p={a: 3} -> {p: {a: 3}}
  auto deep = text("p: {a: {b: 1, c: 2}}\n", {"p={a: {b: 5}}"});
  BOOST_TEST(scalar(deep, "p.a.b") == "5");
  BOOST_TEST(scalar(deep, "p.a.c") == "2");
  auto replaced = text("p: {a: {b: 1, c: 2}}\n", {"p={a: 3}"});
  BOOST_TEST(scalar(replaced, "p.a") == "3");
  // {p: 3} p={c: 5} -> {p: {c: 5}};  {p: {a: null}} p={a: {x: 1}} -> {p: {a: {x: 1}}}
  BOOST_TEST(scalar(text("p: 3\n", {"p={c: 5}"}), "p.c") == "5");
  BOOST_TEST(scalar(text("p: {a: null}\n", {"p={a: {x: 1}}"}), "p.a.x") == "1");
  // {p: {a: 1}} p={} -> unchanged;  p=null -> {p: null}
  BOOST_TEST(scalar(text("p: {a: 1}\n", {"p={}"}), "p.a") == "1");
  BOOST_TEST(find_path(text("p: {a: 1}\n", {"p=null"}).root, "p").IsNull());
}

BOOST_AUTO_TEST_CASE(set_merge_refuses_new_keys_as_struct_mode_does) {
  // {p: {epochs: 3}} p={c: 5} -> "Key 'c' is not in struct"; with ++ it is added.
  std::string e = text_error("p: {epochs: 3}\n", {"p={c: 5}"});
  BOOST_TEST(contains(e, "p.c: no such key"), e);
  BOOST_TEST(contains(e, "++p={c: 5}"), e);
  BOOST_TEST(contains(text_error("p: {a: {b: 1}}\n", {"p={a: {d: 5}}"}), "p.a.d: no such key"));
  auto added = text("p: {epochs: 3}\n", {"++p={c: 5}"});
  BOOST_TEST(scalar(added, "p.epochs") == "3");
  BOOST_TEST(scalar(added, "p.c") == "5");
}

BOOST_AUTO_TEST_CASE(plus_with_a_dict_merges_into_an_existing_map) {
  // Hydra's '+': an existing key is an error unless it is null or the value is a dict or list.
  auto spec = text("p: {epochs: 3}\n", {"+p={c: 5}"});
  BOOST_TEST(scalar(spec, "p.epochs") == "3");
  BOOST_TEST(scalar(spec, "p.c") == "5");
  BOOST_TEST(scalar(text("p: null\n", {"+p=4"}), "p") == "4");
  BOOST_TEST(contains(text_error("p: 3\n", {"+p=4"}), "key already exists"));
}

BOOST_AUTO_TEST_CASE(merging_a_dict_and_a_list_is_an_error) {
  // OmegaConf: "Cannot merge DictConfig with ListConfig", both ways.
  BOOST_TEST(
      contains(text_error("p: [1, 2]\n", {"p={c: 5}"}), "p: cannot merge a mapping into a list"));
  BOOST_TEST(
      contains(text_error("p: {a: 1}\n", {"p=[1]"}), "p: cannot merge a list into a mapping"));
  auto lists = text("p: [1, 2]\n", {"p=[3]"});  // a list replaces a list
  BOOST_TEST(find_path(lists.root, "p").size() == 1u);
}

BOOST_AUTO_TEST_CASE(dict_override_may_set_declared_op_params) {
  // flowlab's convenience carries over: a param the op declares needs no '+', in a dict too.
  Tree t;
  auto declared = [](const std::string& op, const std::string& param) {
    return op == "t" && (param == "lr" || param == "epochs");
  };
  auto spec = t.compose("nodes:\n  train: {op: t, params: {epochs: 1}}\n",
                        {"nodes.train.params={epochs: 5, lr: 0.5}", "train.lr=0.25"}, declared);
  BOOST_TEST(scalar(spec, "nodes.train.params.epochs") == "5");
  BOOST_TEST(scalar(spec, "nodes.train.params.lr") == "0.25");
  std::string e;
  try {
    t.compose("nodes:\n  train: {op: t, params: {epochs: 1}}\n", {"nodes.train.params={bogus: 1}"},
              declared);
  } catch (const ConfigError& err) {
    e = err.what();
  }
  BOOST_TEST(contains(e, "nodes.train.params.bogus: no such key"), e);
}

BOOST_AUTO_TEST_SUITE_END()
