#pragma once
// A classifier's confusion matrix (rows: true class, columns: predicted), the metrics it gives
// and the files eval ops write from it: confusion_matrix.csv and .json. Torch-free.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "graph/artifact.h"
#include "graph/op.h"

namespace flowlab::ops {

struct ConfusionMatrix {
  explicit ConfusionMatrix(std::vector<std::string> class_names);
  void add(int64_t truth, int64_t predicted) { ++counts[truth][predicted]; }
  int64_t total() const;
  double accuracy() const;
  /// class_accuracy.<c> for every class with examples (the recall of class c).
  std::map<std::string, double> class_accuracies() const;
  /// confusion_matrix.csv (a header row of predicted classes) and confusion_matrix.json.
  void write(const std::filesystem::path& dir) const;

  std::vector<std::string> class_names;
  std::vector<std::vector<int64_t>> counts;
};

/// What a classification eval op returns: a metrics table of accuracy, `loss` (the mean loss the
/// op measured) and class_accuracy.<c>, each logged, with the confusion matrix's files written to
/// the node's output and recorded as its artifacts.
ArtifactPtr report_classification(OpContext& ctx, const ConfusionMatrix& confusion,
                                  double mean_loss);

}  // namespace flowlab::ops
