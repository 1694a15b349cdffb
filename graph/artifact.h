#pragma once
// What flows along the graph's edges: immutable node outputs (a dataset split, a trained model, a
// metrics table). The graph layer sees them only through this interface, so it needs no LibTorch.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace flowlab {

class Artifact {
 public:
  virtual ~Artifact() = default;
  /// The artifact type name that op ports declare ("dataset", "classifier", "metrics").
  virtual std::string type() const = 0;
  /// Writes the artifact into the empty directory `dir` so that its ArtifactType::load can
  /// rebuild an equal artifact. Only called for ops whose outputs are cached.
  virtual void save(const std::filesystem::path& dir) const = 0;
};
using ArtifactPtr = std::shared_ptr<const Artifact>;

/// A named artifact type: its documentation and how to load a saved one from the cache.
struct ArtifactType {
  std::string name;
  std::string summary;
  std::function<ArtifactPtr(const std::filesystem::path& dir)> load;  // empty: never cached
};

}  // namespace flowlab
