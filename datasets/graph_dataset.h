#pragma once
// The `dataset.graph` artifact: labelled graphs for graph classification, split into train /
// valid / test, with class names and the number of distinct node labels. Torch-free.
//
// Saved (and, later, read from users' files) as text, one file per split; each graph is a block:
//   graph <class> <nodes>
//   labels <l_0> ... <l_{nodes-1}>     (optional: every node label 0 when absent)
//   edge <a> <b>                       (0-based node ids, each undirected edge once)
// Blank lines and lines starting with '#' are skipped; a malformed line is an error naming the
// file and line.
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/graph_data.h"
#include "graph/artifact.h"

namespace flowlab::datasets {

struct GraphDataset : Artifact {
  std::vector<Graph> train, valid, test;
  std::vector<std::string> class_names;
  int32_t node_label_count = 1;  // node labels are in [0, node_label_count)

  static constexpr const char* kType = "dataset.graph";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir);
};

/// Writes graphs in the block format above.
void write_graphs(const std::filesystem::path& path, const std::vector<Graph>& graphs);
/// Reads them back; throws RunError "FILE:LINE: ..." for a malformed line.
std::vector<Graph> read_graphs(const std::filesystem::path& path);

}  // namespace flowlab::datasets
