#include "datasets/graph_dataset.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/text.h"

namespace flowlab::datasets {
namespace fs = std::filesystem;

void write_graphs(const fs::path& path, const std::vector<Graph>& graphs) {
  std::string text;
  for (const auto& g : graphs) {
    text += fmt::format("graph {} {}\nlabels", g.label, g.nodes);
    for (int32_t l : g.node_labels) text += fmt::format(" {}", l);
    text += "\n";
    for (const auto& [a, b] : g.edges) text += fmt::format("edge {} {}\n", a, b);
  }
  write_text_file(path, text);
}

std::vector<Graph> read_graphs(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw RunError("cannot read " + path.string());
  std::vector<Graph> graphs;
  int line_number = 0;
  auto fail = [&](const std::string& what) {
    return RunError(fmt::format("{}:{}: {}", path.string(), line_number, what));
  };
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    if (trim(line).empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    auto number = [&](const char* what) {
      std::string w;
      if (!(words >> w)) throw fail(fmt::format("expected {} after '{}'", what, kind));
      const auto v = parse_int64(w);
      if (!v || *v < 0 || *v > 100'000'000)
        throw fail(fmt::format("{} '{}' is not a count", what, w));
      return static_cast<int32_t>(*v);
    };
    if (kind == "graph") {
      Graph g;
      g.label = number("a class");
      g.nodes = number("a node count");
      g.node_labels.assign(static_cast<size_t>(g.nodes), 0);
      graphs.push_back(std::move(g));
      continue;
    }
    if (graphs.empty()) throw fail("expected 'graph <class> <nodes>' before '" + kind + "'");
    Graph& g = graphs.back();
    if (kind == "labels") {
      for (int32_t v = 0; v < g.nodes; ++v) g.node_labels[v] = number("a node label");
    } else if (kind == "edge") {
      int32_t a = number("a node id"), b = number("a node id");
      if (a >= g.nodes || b >= g.nodes)
        throw fail(fmt::format("edge {} {} names a node beyond the graph's {}", a, b, g.nodes));
      if (a == b) throw fail(fmt::format("edge {} {} is a self-loop", a, b));
      if (a > b) std::swap(a, b);
      g.edges.emplace_back(a, b);
    } else {
      throw fail("expected 'graph', 'labels' or 'edge', got '" + kind + "'");
    }
    std::string extra;
    if (words >> extra) throw fail("unexpected '" + extra + "' at the end of the line");
  }
  for (auto& g : graphs) {
    std::sort(g.edges.begin(), g.edges.end());
    g.edges.erase(std::unique(g.edges.begin(), g.edges.end()), g.edges.end());
  }
  return graphs;
}

void GraphDataset::save(const fs::path& dir) const {
  write_graphs(dir / "train.txt", train);
  write_graphs(dir / "valid.txt", valid);
  write_graphs(dir / "test.txt", test);
  std::string names;
  for (const auto& n : class_names) names += n + "\n";
  write_text_file(dir / "classes.txt", names);
  write_text_file(dir / "node_labels.txt", std::to_string(node_label_count) + "\n");
}

ArtifactPtr GraphDataset::load(const fs::path& dir) {
  auto d = std::make_shared<GraphDataset>();
  d->train = read_graphs(dir / "train.txt");
  d->valid = read_graphs(dir / "valid.txt");
  d->test = read_graphs(dir / "test.txt");
  std::ifstream names(dir / "classes.txt");
  for (std::string n; std::getline(names, n);) d->class_names.push_back(n);
  std::ifstream labels(dir / "node_labels.txt");
  labels >> d->node_label_count;
  return d;
}

}  // namespace flowlab::datasets
