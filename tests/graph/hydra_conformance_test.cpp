// Hydra conformance as data: tests/data/hydra_overrides/cases.yaml holds Hydra's own override and
// sweep test cases (its tests/test_overrides_parser.py and tests/test_basic_sweeper.py), each an
// override and what Hydra gives for it. Every case must pass; a deliberate difference is marked
// `differs: <reason>` in the file and asserts flowlab's behaviour instead.
#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <yaml-cpp/yaml.h>

#include "common/error.h"
#include "graph/override.h"
#include "graph/override_grammar.h"
#include "graph/sweep.h"

namespace fs = std::filesystem;
using flowlab::ConfigError;
using flowlab::OverrideValue;

namespace {

fs::path cases_file() {
  return fs::path(FLOWLAB_SOURCE_DIR) / "tests" / "data" / "hydra_overrides" / "cases.yaml";
}

std::string get(const YAML::Node& c, const char* key) {
  return c[key].IsDefined() ? c[key].as<std::string>() : std::string();
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> reprs(const std::vector<OverrideValue>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) out.push_back(flowlab::python_repr(v));
  return out;
}

std::string list_repr(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

// Python's repr of the elements of "[a, b, ...]" split at top-level commas (for permutations).
std::vector<std::string> split_repr(const std::string& list) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (size_t i = 1; i + 1 < list.size(); ++i) {
    char c = list[i];
    if (quote) {
      if (c == '\\') {
        cur += c;
        cur += list[++i];
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      ++i;  // the space after ", "
      continue;
    }
    cur += c;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// Checks one case; returns "" when it passes, else what went wrong.
std::string check(const YAML::Node& c) {
  const std::string in = get(c, "in");
  if (c["run_error"].IsDefined()) {
    std::string e = error_of([&] { flowlab::parse_override(in); });
    return e.find(get(c, "run_error")) != std::string::npos ? "" : "run error: [" + e + "]";
  }
  if (c["error"].IsDefined()) {
    std::string e = error_of([&] {
      flowlab::Override o = flowlab::parse_sweep_override(in);
      if (o.is_sweep() && o.parsed.kind != OverrideValue::Kind::kGlob &&
          o.parsed.kind != OverrideValue::Kind::kInterval)
        flowlab::parse_sweep_argument(in, {});
    });
    return e.find(get(c, "error")) != std::string::npos ? "" : "error: [" + e + "]";
  }
  flowlab::Override o;
  try {
    o = flowlab::parse_sweep_override(in);
  } catch (const ConfigError& e) {
    return std::string("unexpected error: ") + e.what();
  }
  std::string problems;
  auto expect = [&](bool ok, const std::string& what) {
    if (!ok) problems += what + "; ";
  };
  if (c["key"].IsDefined()) expect(o.key_or_group == get(c, "key"), "key " + o.key_or_group);
  if (c["package"].IsDefined())
    expect(o.package && *o.package == get(c, "package"), "package " + o.package.value_or("(none)"));
  if (c["kind"].IsDefined()) {
    std::string kind = o.kind == flowlab::Override::Kind::kAdd        ? "+"
                       : o.kind == flowlab::Override::Kind::kForceAdd ? "++"
                       : o.kind == flowlab::Override::Kind::kDelete   ? "~"
                                                                      : "";
    expect(kind == get(c, "kind"), "kind " + kind);
  }
  if (c["no_value"].IsDefined()) expect(!o.has_value, "has a value");
  if (c["str"].IsDefined())
    expect(o.has_value && o.parsed.kind == OverrideValue::Kind::kString &&
               o.parsed.text == get(c, "str"),
           "value " + flowlab::python_repr(o.parsed));
  if (c["value"].IsDefined())
    expect(!o.is_sweep() && flowlab::python_repr(o.parsed) == get(c, "value"),
           "value " + flowlab::python_repr(o.parsed));
  if (c["value_permutation"].IsDefined()) {
    auto got = split_repr(flowlab::python_repr(o.parsed)),
         want = split_repr(get(c, "value_permutation"));
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    expect(o.parsed.kind == OverrideValue::Kind::kList && got == want,
           "value " + flowlab::python_repr(o.parsed));
  }
  if (c["format"].IsDefined())
    expect(flowlab::format_override_value(o.parsed) == get(c, "format"),
           "format " + flowlab::format_override_value(o.parsed));
  if (c["sweep_repr"].IsDefined())
    expect(o.is_sweep() && flowlab::python_repr(o.parsed) == get(c, "sweep_repr"),
           "sweep " + flowlab::python_repr(o.parsed));
  if (c["sweep"].IsDefined() || c["permutation"].IsDefined()) {
    if (!o.is_sweep()) return problems + "not a sweep: " + flowlab::python_repr(o.parsed);
    auto values = reprs(flowlab::enumerate_sweep(o.parsed, in));
    if (c["sweep"].IsDefined()) {
      expect(list_repr(values) == get(c, "sweep"), "sweep " + list_repr(values));
    } else {
      auto want = split_repr(get(c, "permutation"));
      auto got = values;
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      expect(got == want, "sweep " + list_repr(values));
    }
  }
  if (c["children"].IsDefined()) {
    auto axis = flowlab::parse_sweep_argument(in, {});
    std::vector<std::string> got;
    if (axis)
      for (const auto& v : axis->values) got.push_back(axis->key + "=" + v);
    expect(got == c["children"].as<std::vector<std::string>>(), "children " + list_repr(got));
  }
  if (c["children_error"].IsDefined()) {
    std::string e = error_of([&] { flowlab::parse_sweep_argument(in, {}); });
    expect(e.find(get(c, "children_error")) != std::string::npos, "sweep error [" + e + "]");
  }
  if (c["not_sweep"].IsDefined()) expect(!flowlab::parse_sweep_argument(in, {}), "a sweep");
  return problems;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(graph_hydra_conformance)

BOOST_AUTO_TEST_CASE(hydra_override_and_sweep_cases) {
  YAML::Node cases = YAML::LoadFile(cases_file().string());
  BOOST_REQUIRE(cases.IsSequence());
  size_t passed = 0, differs = 0;
  for (const auto& c : cases) {
    std::string problem = check(c);
    BOOST_TEST(problem.empty(), "case '" << get(c, "in") << "': " << problem);
    if (problem.empty()) ++passed;
    if (c["differs"].IsDefined()) ++differs;
  }
  BOOST_TEST_MESSAGE("Hydra conformance: " << cases.size() << " cases, " << passed << " pass, "
                                           << differs << " of them deliberate differences");
  BOOST_TEST(cases.size() >= 150u);
}

// Every case that parses to a plain value writes back (format_override_value) to text that parses
// to the same value: what `flowlab sweep` puts in its children's overrides means what was typed.
BOOST_AUTO_TEST_CASE(written_values_parse_back_to_themselves) {
  YAML::Node cases = YAML::LoadFile(cases_file().string());
  for (const auto& c : cases) {
    if (c["error"].IsDefined() || c["run_error"].IsDefined()) continue;
    flowlab::Override o = flowlab::parse_sweep_override(get(c, "in"));
    if (!o.has_value || o.is_sweep()) continue;
    std::string text = "k=" + flowlab::format_override_value(o.parsed);
    std::string again;
    try {
      again = flowlab::python_repr(flowlab::parse_override(text).parsed);
    } catch (const ConfigError& e) {
      again = e.what();
    }
    std::string want = flowlab::python_repr(o.parsed);
    BOOST_TEST(again == want, "case '" << get(c, "in") << "' written as '" << text << "'");
  }
}

BOOST_AUTO_TEST_SUITE_END()
