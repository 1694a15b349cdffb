// Inputs that fuzz/compose_fuzz.cpp and fuzz/sweep_fuzz.cpp found crashing composition or sweep
// expansion (an exception other than ConfigError escaping, or a sanitizer report), reduced to the
// smallest text that shows each. Each must now be a located ConfigError (or compose cleanly).
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "graph/cache.h"
#include "graph/compose.h"
#include "graph/override.h"
#include "graph/override_grammar.h"
#include "graph/sweep.h"
#include "tests/support/config_error.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using flowlab::testing::contains;
using flowlab::testing::TempDir;
using flowlab::testing::write_file;

namespace {

std::string compose_error(const std::string& yaml, const fs::path& config_dir = {},
                          const std::vector<std::string>& overrides = {}) {
  return flowlab::testing::config_error_of(
      [&] { flowlab::compose_text(yaml, "spec.yaml", config_dir, overrides); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_fuzz_findings)

// compose_fuzz crash-e4471219: a complex key (`? `) made record_locations() call as<std::string>()
// on a mapping, and yaml-cpp's TypedBadConversion escaped.
BOOST_AUTO_TEST_CASE(a_mapping_or_list_as_a_key_is_a_located_error) {
  for (const std::string& yaml : {
           std::string("nodes:\n  a:\n    ? predict_n: 1000\n    : 1\n"),
           std::string("x:\n  ? [a, b]\n  : 1\n"), std::string("{[a, b]: 1}\n"),
           std::string("base: &b {k: 1}\nm:\n  *b : 1\n"),  // an alias of a mapping as a key
       }) {
    std::string message = compose_error(yaml);
    BOOST_TEST(contains(message, "a mapping or a list as a key"), yaml << " gave: " << message);
    BOOST_TEST(contains(message, "spec.yaml:"), message);
  }
}

BOOST_AUTO_TEST_CASE(scalar_keys_and_aliases_of_scalars_as_keys_still_compose) {
  BOOST_TEST(compose_error("name: &n k\nm:\n  *n : 1\n? plain\n: 2\n") == "");
}

// compose_fuzz crash-5e92e6f4: an option name longer than the file system allows made
// fs::exists() throw filesystem_error (ENAMETOOLONG) instead of "no option".
BOOST_AUTO_TEST_CASE(an_over_long_option_name_is_no_such_option) {
  TempDir dir;
  write_file(dir / "configs/model/cnn.yaml", "width: 16\n");
  const std::string long_name(300, 'x');
  std::string message = compose_error("defaults:\n  - model: " + long_name + "\n", dir / "configs");
  BOOST_TEST(contains(message, "no option '" + long_name + "'"), message);
  message = compose_error("defaults:\n  - model: cnn\n", dir / "configs", {"model=" + long_name});
  BOOST_TEST(contains(message, "no option"), message);
  message = compose_error("defaults:\n  - " + long_name + ": cnn\n", dir / "configs");
  BOOST_TEST(contains(message, "unknown config group"), message);
}

// The same in sweep expansion: glob() over a group name too long to look up.
BOOST_AUTO_TEST_CASE(glob_over_an_over_long_group_name_is_not_a_group) {
  TempDir dir;
  write_file(dir / "configs/model/cnn.yaml", "width: 16\n");
  std::string message = flowlab::testing::config_error_of(
      [&] { flowlab::parse_sweep_argument(std::string(300, 'm') + "=glob(*)", dir / "configs"); });
  BOOST_TEST(contains(message, "is not one"), message);
}

// compose_fuzz crash-(--cfg round trip): a key over YAML's 1024-character limit for implicit keys
// was written as one, so `flowlab run --cfg` printed text that did not compose again.
BOOST_AUTO_TEST_CASE(cfg_output_with_a_long_key_composes_again_to_the_same_text) {
  const std::string key(1100, 'k');
  for (const std::string& yaml :
       {"? " + key + "\n: 1\n", "m:\n  ? \"" + key + " \\xfc\"\n  : {a: 1}\n",
        "z: {c: 3}\n? " + key + "\n: [1, {b: 2}]\ny: {c: [4]}\n",
        "flow: [x, {b: [{? " + key + " : 3}]}]\n"}) {
    std::string cfg = flowlab::compose_text(yaml, "spec.yaml", {}, {}).to_yaml();
    std::string again;
    BOOST_CHECK_NO_THROW(again = flowlab::compose_text(cfg, "cfg.yaml", {}, {}).to_yaml());
    BOOST_TEST(again == cfg);
  }
}

// A cache record whose metric step is a float out of int64_t's range (1e300) was converted with
// undefined behaviour (UBSan under fuzz/cache_record_fuzz.cpp); a non-integer step is a damaged
// record: a miss, recomputed.
BOOST_AUTO_TEST_CASE(a_cache_record_with_a_non_integer_step_is_a_miss) {
  TempDir dir;
  flowlab::NodeCache cache(dir / "cache");
  for (const char* step : {"1e300", "2.5", "\"3\""}) {
    write_file(cache.entry("ab12") / "record.json",
               std::string(R"({"op": "x", "node": "y", "has_output": false, "files": [],)") +
                   R"( "metrics": [["loss", )" + step + ", 0.5]]}");
    BOOST_TEST(!cache.lookup("ab12").has_value(), step);
  }
  write_file(cache.entry("ab12") / "record.json",
             R"({"op": "x", "node": "y", "has_output": false, "files": [],)"
             R"( "metrics": [["loss", 3, 0.5]]})");
  BOOST_TEST(cache.lookup("ab12").has_value());
}

// Found reading the cache record loader after fuzzing it: a checksum path is read to verify it,
// so a damaged record naming /dev/zero would make the lookup read forever, and a file path
// outside the entry would be registered as a run's artifact. Paths must stay inside the entry.
BOOST_AUTO_TEST_CASE(a_cache_record_naming_paths_outside_its_entry_is_a_miss) {
  TempDir dir;
  flowlab::NodeCache cache(dir / "cache");
  write_file(cache.entry("cd34") / "output" / "value.txt", "1\n");
  auto record = [&](const std::string& files, const std::string& checksums) {
    write_file(cache.entry("cd34") / "record.json",
               R"({"op": "x", "node": "y", "has_output": true, "metrics": [], "files": )" + files +
                   R"(, "checksums": )" + checksums + "}");
    return cache.lookup("cd34").has_value();
  };
  BOOST_TEST(!record("[]", R"({"/dev/zero": "0"})"));
  BOOST_TEST(!record("[]", R"({"output/../../../../dev/zero": "0"})"));
  BOOST_TEST(!record("[]", R"({"record.json": "0"})"));  // neither output/ nor files/
  BOOST_TEST(!record(R"([{"path": "../../etc/passwd", "kind": "x"}])", "{}"));
  BOOST_TEST(!record(R"([{"path": "/etc/passwd", "kind": "x"}])", "{}"));
  // A sound record of the same entry is a hit (its checksum computed as commit() does).
  flowlab::NodeCache fresh(dir / "fresh");
  auto staging = fresh.stage("ef56");
  write_file(staging / "output" / "value.txt", "1\n");
  write_file(staging / "files" / "plot.svg", "<svg/>");
  flowlab::CacheRecord good;
  good.op = "x", good.node = "y", good.has_output = true;
  good.files.push_back({"plot.svg", "plot"});
  fresh.commit(staging, "ef56", good);
  BOOST_TEST(fresh.lookup("ef56").has_value());
}

// override_fuzz crash-1c9e8812: `key=2,shuffle(1,2,4,seed=7)` is a choice holding a sweep; the
// sweep made children `key=1,2,4` (and `key=range(1,3,1)` for 2,range(1,3)) that every child
// refused. The sweep is refused up front.
BOOST_AUTO_TEST_CASE(a_sweep_inside_a_list_of_choices_is_refused) {
  for (const std::string& arg : {"key=2,shuffle(1,2,4,seed=7)", "key=2,range(1,3)",
                                 "key=[1],choice(1,2)", "+key=sort(3,1),2"}) {
    std::string message =
        flowlab::testing::config_error_of([&] { flowlab::parse_sweep_argument(arg, {}); });
    BOOST_TEST(contains(message, "a sweep inside a list of choices is not supported"),
               arg << " gave: " << message);
  }
  BOOST_TEST(flowlab::parse_sweep_argument("key=2,[1,2]", {})->values.size() == 2u);
}

// override_fuzz crash (str(a,'',...)): an empty string inside a choice or list was written back
// as nothing ("a,"), which does not parse.
BOOST_AUTO_TEST_CASE(an_empty_string_in_a_choice_or_list_is_written_quoted) {
  for (const std::string& text : {"k=str(a,'')", "k=a,''", "k=['',b]", "k={x:''}", "k="}) {
    flowlab::OverrideValue v = flowlab::parse_override_value(text, 2);
    std::string written = flowlab::format_override_value(v);
    std::string again;
    BOOST_CHECK_NO_THROW(
        again = flowlab::python_repr(flowlab::parse_override_value("k=" + written, 2)));
    BOOST_TEST(again == flowlab::python_repr(v), text << " written as " << written);
  }
}

// override_fuzz crash-f4095056: `key=[[[[...` about 1,900 deep overflowed the parser's stack.
BOOST_AUTO_TEST_CASE(a_value_nested_thousands_deep_is_an_error_not_a_stack_overflow) {
  for (const std::string& open : {"[", "{a:", "int("}) {
    std::string text = "key=";
    for (int i = 0; i < 100000; ++i) text += open;
    std::string message = flowlab::testing::config_error_of([&] { flowlab::parse_override(text); });
    BOOST_TEST(contains(message, "more than 100 levels deep"), open);
  }
  BOOST_CHECK_NO_THROW(
      flowlab::parse_override("key=" + std::string(50, '[') + std::string(50, ']')));
}

// Found reading sweep.cpp while writing fuzz/sweep_fuzz.cpp (the fuzzer had not reached them): a
// spec axis whose key is only '+' threw std::out_of_range when the command line also had an
// override, and axis sizes whose product passes 2^64 wrapped to a sweep of 0 children.
BOOST_AUTO_TEST_CASE(a_sweep_axis_named_plus_is_compared_without_throwing) {
  YAML::Node spec = YAML::Load("sweep:\n  params:\n    \"+\": [1, 2]\n");
  flowlab::SweepExpansion e;
  BOOST_CHECK_NO_THROW(e = flowlab::expand_sweep(spec["sweep"], "spec.yaml", {"a=1"}, {}));
  BOOST_TEST(e.children.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_sweep_of_2_to_the_64_children_is_refused_not_wrapped_to_none) {
  YAML::Node spec = YAML::Load(
      "sweep:\n  params:\n    a: range(0,65536)\n    b: range(0,65536)\n"
      "    c: range(0,65536)\n    d: range(0,65536)\n");
  std::string message = flowlab::testing::config_error_of(
      [&] { flowlab::expand_sweep(spec["sweep"], "spec.yaml", {}, {}); });
  BOOST_TEST(contains(message, "18446744073709551616 children; at most 100,000"), message);
}

BOOST_AUTO_TEST_SUITE_END()
