// Tests for the command-line override grammar (graph/override.cpp): each accepted form and the
// malformed ones, which must fail with a ConfigError that names the override as typed.
#include "graph/override.h"

#include <string>

#include <boost/test/unit_test.hpp>

#include "common/error.h"
#include "graph/override_grammar.h"
#include "tests/support/temp_dir.h"

using flowlab::ConfigError;
using flowlab::Override;
using flowlab::parse_override;

using flowlab::testing::contains;

namespace {

// Parses `text`, expecting a ConfigError; returns its full message ("" if nothing was thrown).
std::string error_of(const std::string& text) {
  try {
    parse_override(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_override)

BOOST_AUTO_TEST_CASE(plain_assignment_sets_an_existing_key) {
  Override o = parse_override("nodes.train.params.lr=0.1");
  BOOST_TEST((o.kind == Override::Kind::kSet));
  BOOST_TEST(o.key == "nodes.train.params.lr");
  BOOST_TEST(o.value == "0.1");
  BOOST_TEST(o.has_value);
  BOOST_TEST(o.text == "nodes.train.params.lr=0.1");
}

BOOST_AUTO_TEST_CASE(plus_adds_and_double_plus_force_adds) {
  Override add = parse_override("+a.b=x");
  BOOST_TEST((add.kind == Override::Kind::kAdd));
  BOOST_TEST(add.key == "a.b");
  BOOST_TEST(add.value == "x");

  Override force = parse_override("++a.b=x");
  BOOST_TEST((force.kind == Override::Kind::kForceAdd));
  BOOST_TEST(force.key == "a.b");  // both '+' are stripped, not just one
  BOOST_TEST(force.value == "x");
}

BOOST_AUTO_TEST_CASE(tilde_deletes_with_or_without_a_value) {
  Override bare = parse_override("~a.b");
  BOOST_TEST((bare.kind == Override::Kind::kDelete));
  BOOST_TEST(bare.key == "a.b");
  BOOST_TEST(!bare.has_value);

  Override conditional = parse_override("~a.b=3");
  BOOST_TEST((conditional.kind == Override::Kind::kDelete));
  BOOST_TEST(conditional.key == "a.b");
  BOOST_TEST(conditional.has_value);
  BOOST_TEST(conditional.value == "3");
}

BOOST_AUTO_TEST_CASE(group_switch_parses_like_a_set) {
  // Whether it is a group switch is the composer's decision (configs/model/ exists).
  Override o = parse_override("model=mlp");
  BOOST_TEST((o.kind == Override::Kind::kSet));
  BOOST_TEST(o.key == "model");
  BOOST_TEST(o.value == "mlp");

  Override with_package = parse_override("+model@nodes.train.params=cnn");
  BOOST_TEST((with_package.kind == Override::Kind::kAdd));
  BOOST_TEST(with_package.key == "model@nodes.train.params");
}

BOOST_AUTO_TEST_CASE(a_second_equals_sign_must_be_escaped_or_quoted) {
  // Hydra's grammar: '=' is not part of an unquoted value.
  BOOST_TEST(contains(error_of("a=b=c"), "unexpected '=' after the value"));
  BOOST_TEST(parse_override("a=b\\=c").parsed.text == "b=c");
  BOOST_TEST(parse_override("a='b=c'").parsed.text == "b=c");

  Override list = parse_override("a.layers=[1, 2, 3]");
  BOOST_TEST(list.value == "[1, 2, 3]");  // the raw text, for messages
  BOOST_TEST((list.parsed.kind == flowlab::OverrideValue::Kind::kList));
}

BOOST_AUTO_TEST_CASE(values_are_typed_as_hydra_types_them) {
  auto yaml = [](const std::string& text) {
    return flowlab::override_value_node(parse_override(text));
  };
  BOOST_TEST(yaml("a=inf").Scalar() == ".inf");
  BOOST_TEST(yaml("a=-inf").Scalar() == "-.inf");
  BOOST_TEST(yaml("a=NaN").Scalar() == ".nan");
  BOOST_TEST(yaml("a=trUe").Scalar() == "true");
  BOOST_TEST(yaml("a=nULL").IsNull());
  BOOST_TEST(yaml("a=10_0").Scalar() == "100");
  BOOST_TEST(yaml("a=3.1_4").Scalar() == "3.14");
  // Strings that a YAML reader would take for numbers stay strings (the quoted tag "!").
  BOOST_TEST(yaml("a=0x10").Scalar() == "0x10");
  BOOST_TEST(yaml("a=0x10").Tag() == "!");
  BOOST_TEST(yaml("a=010").Tag() == "!");
  BOOST_TEST(yaml("a='1'").Tag() == "!");
  BOOST_TEST(yaml("a=abc").Tag() != "!");
  BOOST_TEST(yaml("a=a: b").Scalar() == "a: b");
  BOOST_TEST(yaml("a=a\\,b").Scalar() == "a,b");
  BOOST_TEST(yaml("a='foo \\'bar'").Scalar() == "foo 'bar");
  YAML::Node dict = yaml("a={a:b, c: [1, x]}");
  BOOST_TEST(dict.IsMap());
  BOOST_TEST(dict["a"].Scalar() == "b");
  BOOST_TEST(dict["c"].IsSequence());
  BOOST_TEST(yaml("a=").Scalar() == "");
}

BOOST_AUTO_TEST_CASE(errors_put_a_caret_under_the_offending_character) {
  std::string e = error_of("++test.x=[");
  BOOST_TEST(contains(e, "expected a value or ']'"));
  BOOST_TEST(contains(e, "\n  ++test.x=[\n            ^"));
  std::string garbage = error_of("key=[1,2]aa");
  BOOST_TEST(contains(garbage, "\n  key=[1,2]aa\n           ^"));
}

BOOST_AUTO_TEST_CASE(sweeps_are_refused_in_a_single_run) {
  for (const char* text :
       {"a=1,2", "a=range(0,3)", "a=choice(a,b)", "model=glob(*)", "a=interval(0,1)"})
    BOOST_TEST(contains(error_of(text), "use `flowlab sweep`"), text);
  BOOST_TEST(flowlab::parse_sweep_override("a=1,2").is_sweep());
  BOOST_TEST(!parse_override("a='1,2'").is_sweep());
}

BOOST_AUTO_TEST_CASE(empty_value_is_allowed_and_marked_as_given) {
  Override o = parse_override("a.name=");
  BOOST_TEST(o.has_value);
  BOOST_TEST(o.value.empty());
}

BOOST_AUTO_TEST_CASE(keys_may_use_dashes_underscores_and_digits) {
  BOOST_TEST(parse_override("node_1.some-key.x2=1").key == "node_1.some-key.x2");
}

BOOST_AUTO_TEST_CASE(empty_override_is_rejected) {
  BOOST_TEST(contains(error_of(""), "expected key=value"));
}

BOOST_AUTO_TEST_CASE(missing_key_before_equals_is_rejected) {
  std::string e = error_of("=1");
  BOOST_TEST(contains(e, "missing key before '='"));
  BOOST_TEST(contains(e, "override '=1'"));
  BOOST_TEST(contains(error_of("+=1"), "missing key"));
}

BOOST_AUTO_TEST_CASE(doubled_or_edge_dots_are_rejected) {
  BOOST_TEST(contains(error_of("a..b=1"), "malformed key 'a..b'"));
  BOOST_TEST(contains(error_of(".a=1"), "malformed key"));
  BOOST_TEST(contains(error_of("a.=1"), "malformed key"));
}

BOOST_AUTO_TEST_CASE(add_without_a_value_is_rejected) {
  BOOST_TEST(!error_of("+a").empty());
  BOOST_TEST(!error_of("++a.b").empty());
  BOOST_TEST(contains(error_of("+a"), "override '+a'"));
}

BOOST_AUTO_TEST_CASE(set_without_equals_is_rejected) {
  BOOST_TEST(contains(error_of("a.b"), "expected key=value"));
}

BOOST_AUTO_TEST_CASE(spaces_in_the_key_are_rejected) {
  // "lr = 0.1" typed in a shell arrives as one quoted word only if the user quoted it; either
  // way a space next to '=' is a mistake worth naming.
  BOOST_TEST(contains(error_of("lr =0.1"), "unexpected space"));
  BOOST_TEST(contains(error_of(" lr=0.1"), "unexpected space"));
  BOOST_TEST(contains(error_of("a b=1"), "malformed key"));
}

BOOST_AUTO_TEST_CASE(other_punctuation_in_keys_is_rejected) {
  BOOST_TEST(contains(error_of("a#b=1"), "malformed key"));
  BOOST_TEST(contains(error_of("a[0]=1"), "malformed key"));
  BOOST_TEST(contains(error_of("a/b.c=1"), "malformed key"));  // a group path has no dots
  BOOST_TEST(error_of("a$b=1").empty());                       // Hydra allows '$' in keys
  BOOST_TEST(parse_override("list.0=1").key == "list.0");
}

BOOST_AUTO_TEST_CASE(package_is_split_from_the_group) {
  Override o = parse_override("model@nodes.train.params=cnn");
  BOOST_TEST(o.key == "model@nodes.train.params");
  BOOST_TEST(o.key_or_group == "model");
  BOOST_TEST(o.package.value() == "nodes.train.params");
  BOOST_TEST(parse_override("model@=cnn").package.value() == "");
  BOOST_TEST(!parse_override("model=cnn").package);
}

BOOST_AUTO_TEST_CASE(slashes_name_a_nested_config_group) {
  // Hydra's packageOrGroup: a package (dotted) or ID (SLASH ID)+, the path of a nested config
  // group (configs/server/db/mysql.yaml is option mysql of group server/db): `server/db=mysql`.
  Override o = parse_override("server/db=mysql");
  BOOST_TEST((o.kind == Override::Kind::kSet));
  BOOST_TEST(o.key == "server/db");
  BOOST_TEST(o.key_or_group == "server/db");
  BOOST_TEST(!o.package);
  BOOST_TEST(o.value == "mysql");
  BOOST_TEST(parse_override("a/b-2/c_3=x").key_or_group == "a/b-2/c_3");  // each part an ID
  Override add = parse_override("+server/db@backup.db=postgresql");
  BOOST_TEST((add.kind == Override::Kind::kAdd));
  BOOST_TEST(add.key_or_group == "server/db");
  BOOST_TEST(add.package.value() == "backup.db");
  Override del = parse_override("~server/db");
  BOOST_TEST((del.kind == Override::Kind::kDelete));
  BOOST_TEST(del.key == "server/db");
  // Empty parts, and parts that are not IDs (a leading digit, '$', a dot), are malformed.
  for (const char* bad : {"/db=x", "server/=x", "server//db=x", "server/1db=x", "server/d$b=x",
                          "server/db.x=1", "server/@pkg=x"}) {
    std::string e = error_of(bad);
    BOOST_TEST(contains(e, "malformed key"), bad << ": " << e);
  }
  // The caret points at the first bad character: the second '/' of "server//db".
  BOOST_TEST(contains(error_of("server//db=x"), "  server//db=x\n         ^"),
             error_of("server//db=x"));
}

BOOST_AUTO_TEST_CASE(errors_come_from_the_command_line) {
  try {
    parse_override("a..b=1");
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(e.where().file == "command line");
    BOOST_TEST(std::string(e.what()).rfind("command line: error: ", 0) == 0);
  }
}

BOOST_AUTO_TEST_SUITE_END()
