#pragma once
// An op is one kind of graph node (`dataset.fashion_mnist`, `train.classifier`): its documented,
// typed params, its typed input ports, its output type and the function that computes it.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/artifact.h"
#include "graph/params.h"

namespace flowlab {

struct PortSpec {
  std::string name;  // key under the node's `inputs:`
  std::string type;  // artifact type it accepts
  std::string doc;
};

class OpContext;

struct OpDef {
  std::string name;      // "train.classifier": <family>.<name>
  std::string summary;   // one line
  int version = 1;       // bump when results change: invalidates cached outputs
  std::vector<ParamSpec> params;
  std::vector<PortSpec> inputs;
  std::string output_type;
  /// Whether outputs are saved in the cache. An op whose output is cheaper to recompute than to
  /// store can say false: it is then recomputed when a consumer needs it (its metrics are still
  /// cached).
  bool cache_output = true;
  std::function<ArtifactPtr(OpContext&)> run;

  const ParamSpec* find_param(const std::string& name) const;
  const PortSpec* find_input(const std::string& name) const;
};

/// Receives what nodes report while they run. Implementations must be thread-safe: independent
/// nodes run concurrently.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void metric(const std::string& node, const std::string& key, int64_t step, double value) = 0;
  /// A progress line for long work: `fraction` in [0,1], `message` already formatted by the op.
  virtual void progress(const std::string& node, double fraction, const std::string& message) = 0;
  virtual void artifact_file(const std::string& node, const std::filesystem::path& path,
                             const std::string& kind) = 0;
};

/// Keeps a long node's progress across a kill (implemented by the executor).
class Checkpointer {
 public:
  virtual ~Checkpointer() = default;
  virtual void save(const std::function<void(const std::filesystem::path&)>& write) = 0;
  virtual std::optional<std::filesystem::path> restore() = 0;
};

/// What a node body sees: its params, its inputs, its thread share, a place for files, and
/// channels for metrics and progress.
class OpContext {
 public:
  OpContext(std::string node, const Params& params, std::map<std::string, ArtifactPtr> inputs,
            int threads, std::filesystem::path output_dir, RunObserver& observer,
            const std::atomic<bool>& stop, Checkpointer* checkpointer = nullptr);

  const std::string& node() const { return node_; }
  const Params& params() const { return params_; }
  /// The artifact on input `port`, cast to its concrete type (validated before the run).
  template <class T>
  std::shared_ptr<const T> input(const std::string& port) const {
    auto p = std::dynamic_pointer_cast<const T>(raw_input(port));
    if (!p) throw std::logic_error("input '" + port + "' of node '" + node_ + "' has the wrong type");
    return p;
  }
  ArtifactPtr raw_input(const std::string& port) const;
  /// Intra-op threads this node may use (its share of the run's thread budget).
  int threads() const { return threads_; }
  /// Directory for files this node produces (reports, plots); part of its cached output.
  const std::filesystem::path& output_dir() const { return output_dir_; }

  void log_metric(const std::string& key, double value, int64_t step = 0);
  void progress(double fraction, const std::string& message);
  /// Registers a file written under output_dir() as an artifact of the run.
  void add_file(const std::filesystem::path& path, const std::string& kind);
  /// Throws Cancelled when the user interrupted the run; call it in long loops.
  void check_cancelled() const;
  bool stop_requested() const { return stop_.load(); }

  /// Checkpoints let a long node survive a kill: `flowlab resume` restarts it from the last one.
  /// `write` fills an empty directory; it then atomically becomes the node's checkpoint together
  /// with every metric logged so far. A no-op when the run keeps no checkpoints.
  void save_checkpoint(const std::function<void(const std::filesystem::path&)>& write);
  /// The last checkpoint's directory, after re-logging the metrics it holds; nullopt if none.
  /// Call it once, before logging anything.
  std::optional<std::filesystem::path> restore_checkpoint();

 private:
  std::string node_;
  const Params& params_;
  std::map<std::string, ArtifactPtr> inputs_;
  int threads_;
  std::filesystem::path output_dir_;
  RunObserver& observer_;
  const std::atomic<bool>& stop_;
  Checkpointer* checkpointer_;
};

/// All ops and artifact types known to a build. Filled explicitly by register_*() functions.
class Registry {
 public:
  void add(OpDef op);                 // throws std::logic_error on a duplicate name
  void add_type(ArtifactType type);
  const OpDef* find(const std::string& name) const;
  const ArtifactType* find_type(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::map<std::string, OpDef>& ops() const { return ops_; }

 private:
  std::map<std::string, OpDef> ops_;
  std::map<std::string, ArtifactType> types_;
};

}  // namespace flowlab
