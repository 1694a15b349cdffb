#pragma once
// What flows along the graph's edges: immutable node outputs (a dataset split, a trained model, a
// metrics table). The graph layer sees them only through this interface, so it needs no LibTorch.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace flowlab {

class Registry;

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

/// A named artifact type: its documentation, how to load a saved one from the cache (with the
/// registry, for artifacts that rebuild a registered architecture) and the interfaces it
/// implements (ports declared with an interface accept it).
struct ArtifactType {
  std::string name;
  std::string summary;
  std::function<ArtifactPtr(const std::filesystem::path& dir, const Registry& registry)> load;
  std::vector<std::string> interfaces;
};

/// Adapts a loader that needs no registry: `{T::kType, "...", loader(&T::load)}`.
inline std::function<ArtifactPtr(const std::filesystem::path&, const Registry&)> loader(
    ArtifactPtr (*load)(const std::filesystem::path&)) {
  return [load](const std::filesystem::path& dir, const Registry&) { return load(dir); };
}

}  // namespace flowlab
