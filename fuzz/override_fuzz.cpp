// The command-line override parser (graph/override.h, graph/override_grammar.h): the input is one
// override. A ConfigError is the expected answer to a malformed one. For one that parses, the
// value written back (format_override_value, what `flowlab sweep` puts in a child's override)
// must parse to the same value, and a plain value must convert to a YAML node.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "fuzz/fuzz_support.h"
#include "graph/override.h"
#include "graph/override_grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // overrides are one command-line word
  const std::string text(reinterpret_cast<const char*>(data), size);
  flowlab::Override o;
  try {
    o = flowlab::parse_sweep_override(text);
  } catch (const flowlab::ConfigError&) {
    return 0;
  }
  if (!o.has_value) return 0;
  try {
    flowlab::parse_override(text);  // the same, refusing sweeps: must agree on what parses
  } catch (const flowlab::ConfigError&) {
    if (!o.is_sweep()) flowlab::fuzz::property_failed("parse_override refuses a plain value");
  }
  // interval() is never written back (`flowlab sweep` refuses it), and Hydra itself cannot write
  // int(interval(1.0, 2.0)) = interval(1, 2) so that it reads back as ints: no round trip.
  if (o.parsed.kind == flowlab::OverrideValue::Kind::kInterval) return 0;
  // glob() is expanded to option names (graph/sweep.cpp), never written back; its written form
  // does not always read back (`glob(a ${}b)`), which no command relies on.
  if (o.parsed.kind == flowlab::OverrideValue::Kind::kGlob) return 0;
  // A choice holding a sweep (`2,range(1,3)`, as Hydra parses it) is refused by `flowlab sweep`
  // (graph/sweep.cpp) and never written back.
  // So is an empty choice (`shuffle()`): "empty choice".
  if (o.parsed.kind == flowlab::OverrideValue::Kind::kChoice && o.parsed.items.empty()) return 0;
  for (const auto& item : o.parsed.items)
    if (item.is_sweep() && o.parsed.kind == flowlab::OverrideValue::Kind::kChoice) return 0;
  const std::string repr = flowlab::python_repr(o.parsed);
  const std::string written = flowlab::format_override_value(o.parsed);
  try {
    flowlab::OverrideValue back = flowlab::parse_override_value("k=" + written, 2);
    if (flowlab::python_repr(back) != repr)
      flowlab::fuzz::property_failed("'" + text + "' is " + repr + ", written back as '" + written +
                                     "' it is " + flowlab::python_repr(back));
  } catch (const flowlab::ConfigError& e) {
    flowlab::fuzz::property_failed("'" + text + "' written back as '" + written +
                                   "' does not parse: " + e.what());
  }
  if (o.is_sweep()) {
    if (o.parsed.kind == flowlab::OverrideValue::Kind::kChoice ||
        o.parsed.kind == flowlab::OverrideValue::Kind::kRange) {
      try {
        for (const auto& v : flowlab::enumerate_sweep(o.parsed, "fuzz"))
          flowlab::format_override_value(v);
      } catch (const flowlab::ConfigError&) {
      }
    }
  } else {
    flowlab::override_value_node(o);
  }
  return 0;
}
