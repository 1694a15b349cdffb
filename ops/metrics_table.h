#pragma once
// The `metrics` artifact: a named set of numbers an evaluator produced (also logged as metrics).
#include <map>
#include <string>

#include "graph/artifact.h"

namespace flowlab::ops {

struct MetricsTable : Artifact {
  std::map<std::string, double> values;

  static constexpr const char* kType = "metrics";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;
  static ArtifactPtr load(const std::filesystem::path& dir);
};

}  // namespace flowlab::ops
