#pragma once
// A torch-free op registry for testing the graph layer: tiny ops over a "number" artifact whose
// bodies record what they did (run counts, sleep intervals) so tests can check scheduling,
// caching and failure handling from the outside.
//
// Ops (all output "number" unless noted):
//   test.const            param value (float)                         -> value
//   test.add              inputs a, b; logs metric "sum"              -> a + b
//   test.follow           input x; param offset (float); logs "result" -> x + offset
//   test.lists            radii: non-empty list of floats >= 0; names: list of a/b; weights: map
//                         of floats in [0, 1]                          -> sum of radii
//   test.shape            model: a choice of param group "shape" (square: side; rect: w, h)
//                                                                      -> the area
//   test.numeric_sink     input x: the interface "numeric" (number implements it; text does not)
//   test.threaded_sleep   as test.sleep, but declares 1 intra-op thread (so `threads:` may be set)
//   test.threaded         param value; declares 2 intra-op threads; logs "threads" -> value
//   test.sleep            param ms (int, [0, 10000]); logs "threads"; records a SleepInterval
//   test.fail             throws std::runtime_error("deliberate failure")
//   test.wait_for_stop    polls ctx.check_cancelled() until the stop flag is set (5 s safety limit)
//   test.count            param value; bumps count_runs(); logs "value" at steps 0 and 1
//   test.count_nocache    as test.count, but cache_output = false (bumps count_nocache_runs())
//   test.text             param text (string)                          -> a "text" artifact
//   test.schema           size: required int in [1, 100]; mode: string, one of fast/slow/exact;
//                         seed: int >= 0 inherited from the spec; lr: float > 0; flag: bool
// Every op body also appends its node name to runs_log(), so tests can see which nodes ran.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "graph/artifact.h"
#include "graph/executor.h"
#include "graph/op.h"

namespace flowlab::testing {

class Number : public Artifact {
 public:
  static constexpr const char* kType = "number";
  explicit Number(double v) : value(v) {}
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;  // dir/value.txt
  static ArtifactPtr load(const std::filesystem::path& dir);
  double value;
};

class Text : public Artifact {
 public:
  static constexpr const char* kType = "text";
  explicit Text(std::string t) : text(std::move(t)) {}
  std::string type() const override { return kType; }
  void save(const std::filesystem::path& dir) const override;  // dir/text.txt
  std::string text;
};

/// Registers the types and ops above. `const_version` is test.const's version, so tests can check
/// that bumping an op's version changes cache keys.
void register_fake_ops(Registry& registry, int const_version = 1);
Registry fake_registry(int const_version = 1);

struct SleepInterval {
  std::string node;
  std::chrono::steady_clock::time_point start, end;
};

/// Global, thread-safe logs written by op bodies. reset_fake_logs() clears all of them.
std::vector<SleepInterval> sleep_log();
std::vector<std::string> runs_log();  // node names, in the order their bodies started
int runs_of(const std::string& node);
std::atomic<int>& count_runs();
std::atomic<int>& count_nocache_runs();
void reset_fake_logs();

/// An ExecutionListener that keeps everything it is told (thread-safe).
class RecordingListener : public ExecutionListener {
 public:
  struct Metric {
    std::string node, key;
    int64_t step;
    double value;
  };
  void metric(const PlannedNode& node, const std::string& key, int64_t step, double value) override;
  void progress(const PlannedNode& node, double fraction, const std::string& message) override {}
  void artifact_file(const PlannedNode& node, const std::filesystem::path& path,
                     const std::string& kind) override {}
  void node_started(const PlannedNode& node) override;
  void node_finished(const PlannedNode& node, const NodeOutcome& outcome) override;

  std::vector<Metric> metrics() const;
  /// Values of metric `key` logged by `node`, in the order they arrived.
  std::vector<double> values(const std::string& node, const std::string& key) const;
  std::vector<std::string> started() const;
  std::map<std::string, NodeStatus> finished() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Metric> metrics_;
  std::vector<std::string> started_;
  std::map<std::string, NodeStatus> finished_;
};

}  // namespace flowlab::testing
