#pragma once
// The `certification` artifact: one row per certified test image.
#include <string>
#include <vector>

#include "graph/artifact.h"

namespace flowlab::ops::certify {

struct CertifiedImage {
  int64_t index = 0;  // position in the evaluated split
  int64_t label = 0;
  int64_t prediction = -1;  // -1 = abstain
  double radius = 0;
  bool correct = false;
  int64_t count = 0;  // votes for the selected class among the n estimation samples
  double p_lower = 0;
  double seconds = 0;
};

struct Certification : Artifact {
  std::string method;  // "cohen", ...
  double sigma = 0;
  std::vector<CertifiedImage> images;

  static constexpr const char* kType = "certification";
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;  // certification.csv
  static ArtifactPtr load(const std::filesystem::path& dir);
  void write_csv(const std::filesystem::path& file) const;

  /// Share of images predicted correctly with radius >= r (abstentions count as wrong).
  double certified_accuracy(double r) const;
  /// Mean over images of the radius when correct, 0 otherwise.
  double average_certified_radius() const;
  double abstain_rate() const;
};

}  // namespace flowlab::ops::certify
