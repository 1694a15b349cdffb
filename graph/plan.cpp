#include "graph/plan.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <set>

#include <fmt/format.h>
#include <xxhash.h>

namespace flowlab {

const PlannedNode* Plan::find(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

std::string content_hash(const std::string& text) {
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

namespace {

std::string describe(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing (null)";
  return "\"" + n.Scalar() + "\"";
}

// Quoted YAML scalars carry the non-specific tag "!": `lr: "0.1"` is a string, not a number.
bool is_quoted(const YAML::Node& n) { return n.Tag() == "!"; }

class Planner {
 public:
  Planner(const ComposedSpec& spec, const Registry& registry) : spec_(spec), registry_(registry) {}

  Plan run() {
    Plan plan;
    read_settings(plan);
    const YAML::Node& root = spec_.root;
    YAML::Node nodes = root["nodes"];
    if (!nodes.IsDefined() || nodes.IsNull())
      fail("nodes", "expected a `nodes:` mapping of node names to {op, inputs, params}");
    if (!nodes.IsMap() || nodes.size() == 0)
      fail("nodes", "expected a non-empty mapping of node names to {op, inputs, params}, got " +
                        describe(nodes));

    std::vector<PlannedNode> unordered;
    std::vector<std::map<std::string, std::string>> input_names;  // port -> node name
    for (const auto& kv : nodes) {
      std::string name = kv.first.as<std::string>();
      unordered.push_back(read_node(name, kv.second));
      input_names.push_back(read_inputs(unordered.back(), kv.second));
    }
    order_and_link(plan, unordered, input_names);
    for (auto& n : plan.nodes) n.key = node_key(plan, n);
    return plan;
  }

 private:
  const ComposedSpec& spec_;
  const Registry& registry_;

  [[noreturn]] void fail(const std::string& path, const std::string& message,
                         std::vector<std::string> notes = {}) const {
    throw ConfigError(spec_.where(path), path, message, std::move(notes));
  }

  void read_settings(Plan& plan) {
    const YAML::Node& root = spec_.root;
    plan.experiment = spec_.spec_file.stem().string();
    if (auto e = root["experiment"]; e.IsDefined()) {
      if (!e.IsScalar() || e.Scalar().empty()) fail("experiment", "expected a name, got " + describe(e));
      plan.experiment = e.Scalar();
    }
    if (auto s = root["seed"]; s.IsDefined()) plan.seed = std::get<int64_t>(parse_value(
        int_param("seed", 0, "", 0.0), s, "seed"));
    if (auto t = root["threads"]; t.IsDefined()) {
      if (t.IsScalar() && t.Scalar() == "auto") {
        plan.threads = 0;
      } else {
        ParamSpec spec = int_param("threads", 0, "", 1.0, 1024.0);
        try {
          plan.threads = static_cast<int>(std::get<int64_t>(parse_value(spec, t, "threads")));
        } catch (const ConfigError&) {
          fail("threads", "expected auto or an integer in [1, 1024], got " + describe(t));
        }
      }
    }
    if (auto d = root["device"]; d.IsDefined())
      plan.device = std::get<std::string>(parse_value(
          string_param("device", "auto", "", {"auto", "cpu", "cuda"}), d, "device"));
  }

  PlannedNode read_node(const std::string& name, const YAML::Node& body) {
    std::string path = "nodes." + name;
    PlannedNode node;
    node.name = name;
    node.where = spec_.where(path);
    bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!name_ok) fail(path, "node names may use letters, digits, '_' and '-' only");
    if (!body.IsMap()) fail(path, "expected a mapping with op:, inputs: and params:, got " + describe(body));
    static const std::vector<std::string> kNodeKeys = {"op", "inputs", "params", "doc"};
    for (const auto& kv : body) {
      std::string key = kv.first.as<std::string>();
      if (std::find(kNodeKeys.begin(), kNodeKeys.end(), key) == kNodeKeys.end())
        fail(path + "." + key, "unknown key in a node (expected op, inputs, params or doc)",
             did_you_mean(key, kNodeKeys));
    }
    YAML::Node op = body["op"];
    if (!op.IsDefined()) fail(path, "missing key 'op' (the op this node runs, e.g. train.classifier)");
    if (!op.IsScalar()) fail(path + ".op", "expected an op name, got " + describe(op));
    node.op = registry_.find(op.Scalar());
    if (!node.op) {
      auto notes = did_you_mean(op.Scalar(), registry_.names());
      notes.push_back(fmt::format("run 'flowlab ops' to list all {} ops", registry_.names().size()));
      fail(path + ".op", "unknown op '" + op.Scalar() + "'", notes);
    }
    node.params = read_params(path + ".params", *node.op, body["params"]);
    return node;
  }

  Params read_params(const std::string& path, const OpDef& op, const YAML::Node& given) {
    if (given.IsDefined() && !given.IsNull() && !given.IsMap())
      fail(path, "expected a mapping of param names to values, got " + describe(given));
    std::vector<std::string> known;
    for (const auto& p : op.params) known.push_back(p.name);
    std::map<std::string, ParamValue> values;
    if (given.IsDefined() && given.IsMap()) {
      for (const auto& kv : given) {
        std::string key = kv.first.as<std::string>();
        const ParamSpec* spec = op.find_param(key);
        if (!spec) {
          auto notes = did_you_mean(key, known);
          notes.push_back("params of " + op.name + ": " + join(known));
          fail(path + "." + key, "unknown param for op " + op.name, notes);
        }
        values[key] = parse_value(*spec, kv.second, path + "." + key);
      }
    }
    const YAML::Node& root = spec_.root;
    for (const auto& spec : op.params) {
      if (values.count(spec.name)) continue;
      if (spec.inherit_from_spec && root[spec.name].IsDefined()) {
        values[spec.name] = parse_value(spec, root[spec.name], spec.name);
      } else if (spec.default_value) {
        values[spec.name] = *spec.default_value;
      } else {
        fail(path, "missing required param '" + spec.name + "' (" + spec.expectation() + "): " +
                       spec.doc);
      }
    }
    return Params(std::move(values));
  }

  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  ParamValue parse_value(const ParamSpec& spec, const YAML::Node& node, const std::string& path) const {
    auto bad = [&]() { fail(path, "expected " + spec.expectation() + ", got " + describe(node)); };
    if (!node.IsScalar()) bad();
    const std::string& s = node.Scalar();
    ParamValue value;
    switch (spec.type) {
      case ParamType::kInt: {
        int64_t v = 0;
        auto res = std::from_chars(s.data(), s.data() + s.size(), v);
        if (is_quoted(node) || res.ec != std::errc() || res.ptr != s.data() + s.size()) bad();
        value = v;
        break;
      }
      case ParamType::kFloat: {
        char* end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (is_quoted(node) || s.empty() || end != s.c_str() + s.size() || !std::isfinite(v)) bad();
        value = v;
        break;
      }
      case ParamType::kBool:
        if (s == "true" || s == "True") value = true;
        else if (s == "false" || s == "False") value = false;
        else bad();
        break;
      case ParamType::kString:
        if (!spec.choices.empty() &&
            std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end())
          fail(path, "expected " + spec.expectation() + ", got " + describe(node),
               did_you_mean(s, spec.choices));
        value = s;
        break;
    }
    if (spec.type == ParamType::kInt || spec.type == ParamType::kFloat) {
      double x = spec.type == ParamType::kInt ? static_cast<double>(std::get<int64_t>(value))
                                              : std::get<double>(value);
      bool below = spec.min && (spec.min_exclusive ? x <= *spec.min : x < *spec.min);
      bool above = spec.max && x > *spec.max;
      if (below || above) bad();
    }
    return value;
  }

  std::map<std::string, std::string> read_inputs(const PlannedNode& node, const YAML::Node& body) {
    std::string path = "nodes." + node.name + ".inputs";
    const OpDef& op = *node.op;
    std::map<std::string, std::string> ports;
    YAML::Node inputs = body["inputs"];
    auto port_list = [&]() {
      std::vector<std::string> names;
      for (const auto& p : op.inputs) names.push_back(p.name + " (" + p.type + ")");
      return names.empty() ? std::string("none") : join(names);
    };
    if (inputs.IsDefined() && !inputs.IsNull()) {
      if (inputs.IsScalar() || inputs.IsSequence()) {
        // Positional form: `inputs: data` or `inputs: [data, model]` fills ports in order.
        std::vector<YAML::Node> items;
        if (inputs.IsScalar()) items.push_back(inputs);
        else for (const auto& i : inputs) items.push_back(i);
        if (items.size() > op.inputs.size())
          fail(path, fmt::format("op {} takes {} input(s), got {}", op.name, op.inputs.size(), items.size()),
               {"inputs of " + op.name + ": " + port_list()});
        for (size_t i = 0; i < items.size(); ++i) {
          if (!items[i].IsScalar()) fail(path, "expected node names, got " + describe(items[i]));
          ports[op.inputs[i].name] = items[i].Scalar();
        }
      } else {
        for (const auto& kv : inputs) {
          std::string port = kv.first.as<std::string>();
          if (!op.find_input(port)) {
            std::vector<std::string> names;
            for (const auto& p : op.inputs) names.push_back(p.name);
            auto notes = did_you_mean(port, names);
            notes.push_back("inputs of " + op.name + ": " + port_list());
            fail(path + "." + port, "unknown input for op " + op.name, notes);
          }
          if (!kv.second.IsScalar()) fail(path + "." + port, "expected a node name, got " + describe(kv.second));
          ports[port] = kv.second.Scalar();
        }
      }
    }
    for (const auto& p : op.inputs)
      if (!ports.count(p.name))
        fail(inputs.IsDefined() ? path : "nodes." + node.name,
             "missing input '" + p.name + "' (a " + p.type + ") for op " + op.name,
             {"inputs of " + op.name + ": " + port_list()});
    return ports;
  }

  void order_and_link(Plan& plan, std::vector<PlannedNode>& nodes,
                      const std::vector<std::map<std::string, std::string>>& input_names) {
    std::map<std::string, size_t> index;
    std::vector<std::string> names;
    for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i].name] = i, names.push_back(nodes[i].name);
    // Resolve names and check types, then order with Kahn's algorithm (stable: spec order).
    std::vector<std::map<std::string, size_t>> deps(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (const auto& [port, producer] : input_names[i]) {
        std::string path = "nodes." + nodes[i].name + ".inputs";
        auto it = index.find(producer);
        if (it == index.end())
          fail(path, "input '" + port + "' names unknown node '" + producer + "'",
               did_you_mean(producer, names));
        if (it->second == i) fail(path, "node '" + producer + "' reads its own output (a cycle)");
        const PortSpec* spec = nodes[i].op->find_input(port);
        const std::string& produced = nodes[it->second].op->output_type;
        if (produced != spec->type)
          fail(path, "input '" + port + "' expects a " + spec->type + ", but node '" + producer +
                         "' (op " + nodes[it->second].op->name + ") produces a " + produced);
        deps[i][port] = it->second;
      }
    }
    std::vector<int> indegree(nodes.size(), 0);
    for (size_t i = 0; i < nodes.size(); ++i) indegree[i] = static_cast<int>(deps[i].size());
    std::vector<size_t> order;
    std::vector<bool> placed(nodes.size(), false);
    while (order.size() < nodes.size()) {
      bool progressed = false;
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (placed[i] || indegree[i] != 0) continue;
        placed[i] = true, progressed = true;
        order.push_back(i);
        for (size_t j = 0; j < nodes.size(); ++j)
          for (const auto& d : deps[j])
            if (d.second == i) --indegree[j];
      }
      if (!progressed) report_cycle(nodes, deps, placed);
    }
    std::vector<size_t> position(nodes.size());
    for (size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
    for (size_t k = 0; k < order.size(); ++k) {
      PlannedNode n = nodes[order[k]];
      for (const auto& [port, producer] : deps[order[k]]) n.inputs[port] = position[producer];
      plan.nodes.push_back(std::move(n));
    }
    for (size_t k = 0; k < plan.nodes.size(); ++k)
      for (const auto& in : plan.nodes[k].inputs) plan.nodes[in.second].consumers.push_back(k);
  }

  [[noreturn]] void report_cycle(const std::vector<PlannedNode>& nodes,
                                 const std::vector<std::map<std::string, size_t>>& deps,
                                 const std::vector<bool>& placed) {
    // Walk producer edges from an unplaced node until a node repeats.
    size_t start = 0;
    while (placed[start]) ++start;
    std::vector<size_t> path{start};
    while (true) {
      size_t cur = path.back();
      size_t next = cur;
      for (const auto& d : deps[cur])
        if (!placed[d.second]) { next = d.second; break; }
      auto seen = std::find(path.begin(), path.end(), next);
      if (seen != path.end()) {
        std::string text;
        // Edges point from consumer to producer; print in data-flow order.
        std::vector<size_t> cycle(seen, path.end());
        std::reverse(cycle.begin(), cycle.end());
        for (size_t idx : cycle) text += nodes[idx].name + " -> ";
        text += nodes[cycle.front()].name;
        fail("nodes." + nodes[cycle.front()].name + ".inputs", "the graph has a cycle: " + text);
      }
      path.push_back(next);
    }
  }

  static std::string node_key(const Plan& plan, const PlannedNode& n) {
    std::string text = fmt::format("flowlab-node/1\nop={}\nversion={}\n", n.op->name, n.op->version);
    for (const auto& [name, value] : n.params.values()) {  // std::map: sorted, canonical
      const ParamSpec* spec = n.op->find_param(name);
      if (spec && !spec->in_cache_key) continue;
      text += fmt::format("param.{}={}:{}\n", name, value.index(), to_string(value));
    }
    for (const auto& [port, producer] : n.inputs)
      text += fmt::format("input.{}={}\n", port, plan.nodes[producer].key);
    return content_hash(text);
  }
};

}  // namespace

Plan make_plan(const ComposedSpec& spec, const Registry& registry) {
  return Planner(spec, registry).run();
}

}  // namespace flowlab
