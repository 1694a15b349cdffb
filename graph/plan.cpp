#include "graph/plan.h"

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "common/sha256.h"

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
      if (!e.IsScalar() || e.Scalar().empty())
        fail("experiment", "expected a name, got " + describe(e));
      plan.experiment = e.Scalar();
    }
    if (auto s = root["seed"]; s.IsDefined())
      plan.seed = std::get<int64_t>(parse_value(int_param("seed", 0, "", 0.0), s, "seed"));
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
    if (auto t = root["tags"]; t.IsDefined() && !t.IsNull()) {
      if (!t.IsMap())
        fail("tags",
             "expected a mapping of tag names to values (tags: {owner: ana}), got " + describe(t));
      for (const auto& kv : t) {
        const std::string key = kv.first.Scalar();
        if (key.empty() || key.find_first_not_of(" \t") == std::string::npos)
          fail("tags", "a tag name must not be empty");
        if (!kv.second.IsScalar())
          fail("tags." + key, "expected a text, number or bool, got " + describe(kv.second));
        plan.tags[key] = kv.second.Scalar();
      }
    }
    if (auto d = root["device"]; d.IsDefined())
      plan.device = std::get<std::string>(
          parse_value(string_param("device", "auto", "", {"auto", "cpu", "cuda"}), d, "device"));
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
    if (!body.IsMap())
      fail(path, "expected a mapping with op:, inputs: and params:, got " + describe(body));
    static const std::vector<std::string> kNodeKeys = {"op", "inputs", "params", "threads", "doc"};
    for (const auto& kv : body) {
      std::string key = kv.first.as<std::string>();
      if (std::find(kNodeKeys.begin(), kNodeKeys.end(), key) == kNodeKeys.end())
        fail(path + "." + key,
             "unknown key in a node (expected op, inputs, params, threads or doc)",
             did_you_mean(key, kNodeKeys));
    }
    YAML::Node op = body["op"];
    if (!op.IsDefined())
      fail(path, "missing key 'op' (the op this node runs, e.g. train.classifier)");
    if (!op.IsScalar()) fail(path + ".op", "expected an op name, got " + describe(op));
    node.op = registry_.find(op.Scalar());
    if (!node.op) {
      auto notes = did_you_mean(op.Scalar(), registry_.names());
      notes.push_back(
          fmt::format("run 'flowlab ops' to list all {} ops", registry_.names().size()));
      fail(path + ".op", "unknown op '" + op.Scalar() + "'", notes);
    }
    node.params = read_params(path + ".params", *node.op, body["params"]);
    node.threads = node.op->threads;
    if (YAML::Node t = body["threads"]; t.IsDefined()) {
      if (node.op->threads == 0)
        fail(path + ".threads",
             "op " + node.op->name + " uses no LibTorch threads; leave `threads:` out");
      node.threads = static_cast<int>(std::get<int64_t>(parse_value(
          int_param("threads", 1, "LibTorch intra-op threads of this node", 1.0, 1024.0), t,
          path + ".threads")));
    }
    return node;
  }

  // The param group option a selector param names, with an error listing the options.
  const ParamChoice& selected_choice(const ParamSpec& selector, const ParamValue& value,
                                     const std::string& path) const {
    const ParamGroup* group = registry_.find_group(selector.group);
    if (!group) throw std::logic_error("param group '" + selector.group + "' is not registered");
    const std::string& name = std::get<std::string>(value);
    if (const ParamChoice* c = group->find(name)) return *c;
    std::vector<std::string> options;
    for (const auto& kv : group->choices) options.push_back(kv.first);
    auto notes = did_you_mean(name, options);
    notes.push_back("run 'flowlab models' to list them with their params");
    fail(path,
         "unknown " + selector.group + " '" + name + "' (expected one of " + join(options) + ")",
         notes);
  }

  Params read_params(const std::string& path, const OpDef& op, const YAML::Node& given) {
    if (given.IsDefined() && !given.IsNull() && !given.IsMap())
      fail(path, "expected a mapping of param names to values, got " + describe(given));
    const YAML::Node& root = spec_.root;
    std::map<std::string, ParamValue> values;
    // The value a declared param takes: given, inherited from the spec, or its default.
    auto resolve = [&](const ParamSpec& spec) {
      const bool given_here = given.IsDefined() && given.IsMap() && given[spec.name].IsDefined();
      if (given_here) {
        YAML::Node v = given[spec.name];
        values[spec.name] = parse_value(spec, v, path + "." + spec.name);
      } else if (spec.inherit_from_spec && root[spec.name].IsDefined()) {
        values[spec.name] = parse_value(spec, root[spec.name], spec.name);
      } else if (spec.default_value) {
        values[spec.name] = *spec.default_value;
      } else {
        fail(path, "missing required param '" + spec.name + "' (" + spec.expectation() +
                       "): " + spec.doc);
      }
      if (spec.name == "device" && registry_.runtime().resolve_device &&
          std::get<std::string>(values[spec.name]) == "auto")
        values[spec.name] = registry_.runtime().resolve_device("auto");
    };
    // The op's own params first, then those of the options its selector params chose (a model
    // architecture's width, depth, ...): together they are what the node may be given.
    std::vector<const ParamSpec*> schema;
    for (const auto& spec : op.params) schema.push_back(&spec);
    std::string with;  // "with model cnn", for messages
    for (const auto& spec : op.params) {
      if (spec.group.empty()) continue;
      resolve(spec);
      const ParamChoice& choice = selected_choice(spec, values[spec.name], path + "." + spec.name);
      with += fmt::format(" with {} {}", spec.name, choice.name);
      for (const auto& extra : choice.params) schema.push_back(&extra);
    }
    // Unknown names first: a misspelt required param is reported as a misspelling.
    if (given.IsDefined() && given.IsMap()) {
      std::vector<std::string> known;
      for (const ParamSpec* spec : schema) known.push_back(spec->name);
      for (const auto& kv : given) {
        std::string key = kv.first.as<std::string>();
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        auto notes = did_you_mean(key, known);
        notes.push_back("params of " + op.name + with + ": " + join(known));
        fail(path + "." + key, "unknown param for op " + op.name + with, notes);
      }
    }
    for (const ParamSpec* spec : schema)
      if (!values.count(spec->name)) resolve(*spec);
    return Params(std::move(values));
  }

  static std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  ParamValue parse_value(const ParamSpec& spec, const YAML::Node& node,
                         const std::string& path) const {
    if (spec.type == ParamType::kList) {
      if (!node.IsSequence())
        fail(path, "expected " + spec.expectation() + ", got " + describe(node));
      ParamList list;
      for (size_t i = 0; i < node.size(); ++i)
        list.items.push_back(
            parse_scalar(spec, spec.element, node[i], fmt::format("{}[{}]", path, i)));
      if (list.items.size() < spec.min_items)
        fail(path, "expected " + spec.expectation() + ", got an empty list");
      return list;
    }
    if (spec.type == ParamType::kMap) {
      if (!node.IsMap()) fail(path, "expected " + spec.expectation() + ", got " + describe(node));
      ParamMap map;
      for (const auto& kv : node) {
        std::string key = kv.first.as<std::string>();
        map.items[key] = parse_scalar(spec, spec.element, kv.second, path + "." + key);
      }
      if (map.items.size() < spec.min_items)
        fail(path, "expected " + spec.expectation() + ", got an empty mapping");
      return map;
    }
    ScalarValue v = parse_scalar(spec, spec.type, node, path);
    return std::visit([](auto&& x) -> ParamValue { return x; }, v);
  }

  // One scalar (a param, or an element of a list or map param) checked against the spec's type,
  // bounds and choices; errors point at the element itself.
  ScalarValue parse_scalar(const ParamSpec& spec, ParamType type, const YAML::Node& node,
                           const std::string& path) const {
    auto bad = [&]() {
      fail(path, "expected " + spec.element_expectation() + ", got " + describe(node));
    };
    if (!node.IsScalar()) bad();
    const std::string& s = node.Scalar();
    ScalarValue value;
    switch (type) {
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
        if (s == "true" || s == "True")
          value = true;
        else if (s == "false" || s == "False")
          value = false;
        else
          bad();
        break;
      case ParamType::kString:
        if (!spec.choices.empty() &&
            std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end())
          fail(path, "expected " + spec.element_expectation() + ", got " + describe(node),
               did_you_mean(s, spec.choices));
        value = s;
        break;
      case ParamType::kList:
      case ParamType::kMap:
        throw std::logic_error("param '" + spec.name + "': lists of lists are not supported");
    }
    if (type == ParamType::kInt || type == ParamType::kFloat) {
      double x = type == ParamType::kInt ? static_cast<double>(std::get<int64_t>(value))
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
        if (inputs.IsScalar())
          items.push_back(inputs);
        else
          for (const auto& i : inputs) items.push_back(i);
        if (items.size() > op.inputs.size())
          fail(path,
               fmt::format("op {} takes {} input(s), got {}", op.name, op.inputs.size(),
                           items.size()),
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
          if (!kv.second.IsScalar())
            fail(path + "." + port, "expected a node name, got " + describe(kv.second));
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
    for (size_t i = 0; i < nodes.size(); ++i)
      index[nodes[i].name] = i, names.push_back(nodes[i].name);
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
        if (!registry_.accepts(spec->type, produced))
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
    for (size_t k = 0; k < plan.nodes.size(); ++k) {
      plan.nodes[k].index = k;
      for (const auto& in : plan.nodes[k].inputs) plan.nodes[in.second].consumers.push_back(k);
    }
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
        if (!placed[d.second]) {
          next = d.second;
          break;
        }
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
};

}  // namespace

namespace {

// The bytes of a content-keyed path (ParamSpec::key_by_content), digested: a file's content, or
// the names and contents of a directory's regular files in name order. A path that cannot be read
// digests to a marker: the node then fails at run time with the op's own clear error.
std::string path_content_digest(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return sha256_file(path);
  if (!std::filesystem::is_directory(path, ec)) return "unreadable";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec))
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& f : files) text += f.filename().string() + "=" + sha256_file(f) + "\n";
  return sha256_hex(text);
}

}  // namespace

std::string node_key(const Plan& plan, const PlannedNode& n) {
  std::string text = fmt::format("flowlab-node/1\nop={}\nversion={}\n", n.op->name, n.op->version);
  for (const auto& [name, value] : n.params.values()) {  // std::map: sorted, canonical
    const ParamSpec* spec = n.op->find_param(name);
    if (spec && !spec->in_cache_key) continue;
    text += fmt::format("param.{}={}:{}\n", name, value.index(), to_string(value));
    if (spec && spec->key_by_content)
      text +=
          fmt::format("content.{}={}\n", name, path_content_digest(std::get<std::string>(value)));
  }
  // Threads change how parallel reductions round; ops that use no intra-op threads leave
  // the line out, so their keys do not depend on it.
  if (n.threads > 0) text += fmt::format("threads={}\n", n.threads);
  for (const auto& [port, producer] : n.inputs)
    text += fmt::format("input.{}={}\n", port, plan.nodes[producer].key);
  return content_hash(text);
}

void set_key(Plan& plan, size_t index, std::string key) {
  plan.nodes.at(index).key = std::move(key);
  // Nodes are in topological order: everything downstream comes later.
  std::vector<bool> dirty(plan.nodes.size(), false);
  dirty[index] = true;
  for (size_t k = index + 1; k < plan.nodes.size(); ++k) {
    for (const auto& in : plan.nodes[k].inputs) dirty[k] = dirty[k] || dirty[in.second];
    if (dirty[k]) plan.nodes[k].key = node_key(plan, plan.nodes[k]);
  }
}

Plan make_plan(const ComposedSpec& spec, const Registry& registry) {
  return Planner(spec, registry).run();
}

}  // namespace flowlab
