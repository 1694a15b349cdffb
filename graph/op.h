#pragma once
// An op is one kind of graph node (`dataset.fashion_mnist`, `train.classifier`): its documented,
// typed params, its typed input ports, its output type and the function that computes it.
#include <any>
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
  std::string type;  // artifact type or interface it accepts (see Registry::accepts)
  std::string doc;
};

class OpContext;

struct OpDef {
  std::string name;     // "train.classifier": <family>.<name>
  std::string summary;  // one line
  int version = 1;      // bump when results change: invalidates cached outputs
  std::vector<ParamSpec> params;
  std::vector<PortSpec> inputs;
  std::string output_type;
  /// LibTorch intra-op threads a node of this op gets unless its spec says `threads: N`; 0 for
  /// ops that do not use LibTorch's thread pool. The executor applies it before the node runs and
  /// it is part of the cache key: parallel reductions round differently with another thread
  /// count, so a result must not depend on how many siblings happen to run beside the node.
  int threads = 0;
  /// The final metrics a sweep's table shows for this op's (sink) nodes, in order; empty: its
  /// step-0 metrics without '.' or '@' in their keys. Everything stays in the database.
  std::vector<std::string> headline_metrics;
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
  virtual void metric(const std::string& node, const std::string& key, int64_t step,
                      double value) = 0;
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
            const std::atomic<bool>& stop, Checkpointer* checkpointer = nullptr,
            const Registry* registry = nullptr);

  const std::string& node() const { return node_; }
  const Params& params() const { return params_; }
  /// The artifact on input `port`, cast to its concrete type (validated before the run).
  template <class T>
  std::shared_ptr<const T> input(const std::string& port) const {
    auto p = std::dynamic_pointer_cast<const T>(raw_input(port));
    if (!p)
      throw std::logic_error("input '" + port + "' of node '" + node_ + "' has the wrong type");
    return p;
  }
  ArtifactPtr raw_input(const std::string& port) const;
  /// Intra-op threads this node was planned with (already applied to LibTorch by the executor).
  int threads() const { return threads_; }
  /// The registry the plan was made with (param groups such as model architectures).
  const Registry& registry() const;
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
  const Registry* registry_;
};

/// An interface: a family of artifact types a port can accept ("classifier": anything that gives
/// logits for a batch of inputs). Concrete types list the interfaces they implement.
struct InterfaceType {
  std::string name;
  std::string summary;
};

/// One option of a param group: a model architecture with its own documented params. `payload`
/// is what the layer that owns the group needs to use the option (a model builder); the graph
/// layer only validates and hashes the params.
struct ParamChoice {
  std::string name;
  std::string summary;
  std::vector<ParamSpec> params;
  std::any payload;
};

/// A named set of options that a string param selects (`model: cnn` picks an architecture of
/// group "classifier"). The selected option's params join the node's own params: validated with
/// file:line errors, defaulted and hashed into the cache key like any other param.
struct ParamGroup {
  std::string name;
  std::string summary;
  std::map<std::string, ParamChoice> choices;
  const ParamChoice* find(const std::string& choice) const;
};

/// What the graph layer asks of the compute runtime without linking it (LibTorch fills these).
struct RuntimeHooks {
  /// Called on the worker thread right before a node runs, with the node's planned threads.
  std::function<void(int threads)> set_threads;
  /// Resolves a `device: auto` param at plan time ("cpu" or "cuda"), so the cache key names the
  /// device that computes the node.
  std::function<std::string(const std::string& requested)> resolve_device;
};

/// All ops, artifact types, interfaces and param groups known to a build. Filled explicitly by
/// register_*() functions; every add refuses a name registered twice (std::logic_error).
class Registry {
 public:
  void add(OpDef op);
  void add_type(ArtifactType type);
  void add_interface(InterfaceType interface);
  /// Adds `choice` to group `group` (created with `group_summary` if new).
  void add_choice(const std::string& group, const std::string& group_summary, ParamChoice choice);
  const OpDef* find(const std::string& name) const;
  const ArtifactType* find_type(const std::string& name) const;
  const InterfaceType* find_interface(const std::string& name) const;
  const ParamGroup* find_group(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::map<std::string, OpDef>& ops() const { return ops_; }
  const std::map<std::string, ArtifactType>& types() const { return types_; }
  const std::map<std::string, InterfaceType>& interfaces() const { return interfaces_; }
  const std::map<std::string, ParamGroup>& groups() const { return groups_; }

  /// Whether a port declared as `port_type` accepts an artifact of type `produced`: the same
  /// type, or a type that implements the interface `port_type`.
  bool accepts(const std::string& port_type, const std::string& produced) const;
  /// Throws std::logic_error naming the first op whose ports, output or selector params name a
  /// type, interface or group that is not registered (a typo in an op's schema), or whose params
  /// clash with those of an option its selector can choose.
  void check() const;

  void set_runtime(RuntimeHooks hooks) { runtime_ = std::move(hooks); }
  const RuntimeHooks& runtime() const { return runtime_; }

 private:
  std::map<std::string, OpDef> ops_;
  std::map<std::string, ArtifactType> types_;
  std::map<std::string, InterfaceType> interfaces_;
  std::map<std::string, ParamGroup> groups_;
  RuntimeHooks runtime_;
};

}  // namespace flowlab
