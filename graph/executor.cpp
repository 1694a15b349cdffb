#include "graph/executor.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/task_arena.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/file_io.h"
#include "graph/cache.h"
#include "graph/cache_admin.h"

namespace flowlab {
namespace fs = std::filesystem;

std::string to_string(NodeStatus s) {
  switch (s) {
    case NodeStatus::kPending:
      return "PENDING";
    case NodeStatus::kFinished:
      return "FINISHED";
    case NodeStatus::kCached:
      return "CACHED";
    case NodeStatus::kFailed:
      return "FAILED";
    case NodeStatus::kSkipped:
      return "SKIPPED";
    case NodeStatus::kKilled:
      return "KILLED";
  }
  return "?";
}

int max_concurrency(const Plan& plan, const std::vector<bool>& to_compute, int threads, int cap) {
  int n = static_cast<int>(std::count(to_compute.begin(), to_compute.end(), true));
  int concurrency = std::max(1, std::min(std::max(1, threads), n));
  if (cap > 0) concurrency = std::min(concurrency, cap);
  return concurrency;
}

namespace {

// Forwards one node's reports to the listener (with the node itself, not its name) and keeps a
// copy for its cache record.
class RecordingObserver : public RunObserver {
 public:
  RecordingObserver(ExecutionListener& listener, const PlannedNode& node, fs::path files_dir)
      : listener_(listener), node_(node), files_dir_(std::move(files_dir)) {}
  void metric(const std::string&, const std::string& key, int64_t step, double value) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      record.metrics.push_back({key, step, value});
    }
    listener_.metric(node_, key, step, value);
  }
  void progress(const std::string&, double fraction, const std::string& message) override {
    listener_.progress(node_, fraction, message);
  }
  void artifact_file(const std::string& node, const fs::path& path,
                     const std::string& kind) override {
    std::lock_guard<std::mutex> lock(mutex_);
    record.files.push_back({fs::relative(path, files_dir_).string(), kind});
  }
  CacheRecord record;

  std::vector<CachedMetric> metrics_so_far() {
    std::lock_guard<std::mutex> lock(mutex_);
    return record.metrics;
  }

 private:
  ExecutionListener& listener_;
  const PlannedNode& node_;
  fs::path files_dir_;
  std::mutex mutex_;
};

// A node's checkpoint lives in <root>/<cache key>/: its op's files plus `metrics.json`, what the
// node had logged when it was taken. Replacing it is two renames; a kill between them leaves the
// previous one at <dir>.old, which restore() falls back to.
class NodeCheckpointer : public Checkpointer {
 public:
  NodeCheckpointer(fs::path root, const PlannedNode& node, RecordingObserver& observer,
                   bool allow_restore)
      : dir_(root / node.key),
        node_(node.name),
        observer_(observer),
        allow_restore_(allow_restore) {}

  // A checkpoint that cannot be written because the storage refuses writes (full disk, quota,
  // read-only, I/O error) fails the node: its result could not be cached either, and the user
  // must hear of it now. Any other failure (another process racing on the same key) is a
  // warning: the node goes on and only loses the ability to resume from this point.
  void save(const std::function<void(const fs::path&)>& write) override {
    static std::atomic<int> counter{0};
    fs::path tmp = dir_.string() + fmt::format(".tmp-{}-{}", getpid(), counter++);
    std::error_code ec;
    try {
      fs::remove_all(tmp);
      fs::create_directories(tmp);
      write(tmp);
      nlohmann::json metrics = nlohmann::json::array();
      for (const auto& m : observer_.metrics_so_far())
        metrics.push_back(
            {m.key, m.step,
             std::isfinite(m.value) ? nlohmann::json(m.value) : nlohmann::json(nullptr)});
      write_text_file(tmp / "metrics.json", metrics.dump());
      fs::path old = dir_.string() + ".old";
      if (fs::exists(dir_)) {
        fs::remove_all(old, ec);
        fs::rename(dir_, old);
      }
      fs::rename(tmp, dir_);
      fs::remove_all(old, ec);
    } catch (const std::exception& e) {
      fs::remove_all(tmp, ec);
      const auto* write = dynamic_cast<const WriteError*>(&e);
      const auto* filesystem = dynamic_cast<const fs::filesystem_error*>(&e);
      if ((write && is_storage_error(write->code())) ||
          (filesystem && is_storage_error(filesystem->code().value())))
        throw RunError(std::string("checkpoint not saved: ") + e.what());
      std::fprintf(stderr, "flowlab: warning: node '%s': checkpoint not saved: %s\n", node_.c_str(),
                   e.what());
    }
  }

  std::optional<fs::path> restore() override {
    if (!allow_restore_) {  // --no-cache: recompute from scratch
      clear();
      return std::nullopt;
    }
    fs::path dir = dir_;
    if (!fs::exists(dir / "metrics.json")) dir = dir_.string() + ".old";
    std::ifstream in(dir / "metrics.json");
    if (!in) return std::nullopt;
    nlohmann::json metrics = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!metrics.is_array()) return std::nullopt;  // damaged: start from scratch
    for (const auto& m : metrics)
      observer_.metric(node_, m.at(0).get<std::string>(), m.at(1).get<int64_t>(),
                       m.at(2).is_null() ? std::nan("") : m.at(2).get<double>());
    return dir;
  }

  void clear() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::remove_all(dir_.string() + ".old", ec);
  }

 private:
  fs::path dir_;
  std::string node_;
  RecordingObserver& observer_;
  bool allow_restore_;
};

// Thread slots of the run's budget: a node takes as many as it was planned with (at least one,
// at most the whole budget) before it starts and gives them back when it ends, so nodes side by
// side never hold more LibTorch threads than the budget. Nodes are served in the order they
// asked, so a node that needs many slots is not overtaken forever by nodes that need one.
class ThreadBudget {
 public:
  explicit ThreadBudget(int slots) : free_(std::max(1, slots)), slots_(std::max(1, slots)) {}
  int slots_for(int threads) const { return std::clamp(threads, 1, slots_); }
  void acquire(int n) {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t ticket = next_ticket_++;
    cv_.wait(lock, [&] { return serving_ == ticket && free_ >= n; });
    free_ -= n;
    ++serving_;
    cv_.notify_all();  // the next in line may fit as well
  }
  void release(int n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      free_ += n;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int free_, slots_;
  uint64_t next_ticket_ = 0, serving_ = 0;
};

class Executor {
 public:
  Executor(const Plan& plan, const Registry& registry, ExecutionListener& listener,
           const ExecuteOptions& options)
      : plan_(plan),
        registry_(registry),
        listener_(listener),
        options_(options),
        cache_(options.cache_dir),
        records_(plan.nodes.size()),
        outputs_(plan.nodes.size()),
        compute_(plan.nodes.size(), false),
        load_(plan.nodes.size(), false),
        budget_(options.threads) {
    stop_ = options.stop ? options.stop : &no_stop_;
  }

  ExecutionResult run() {
    // Claims every entry this plan may read or write before the first lookup, so that `flowlab
    // cache gc` leaves them alone until this executor ends (graph/cache_admin.h says why).
    std::vector<std::string> keys;
    for (const auto& n : plan_.nodes) keys.push_back(n.key);
    const CachePin pin(options_.cache_dir, keys);
    decide_what_to_compute();
    ExecutionResult result;
    result.concurrency =
        max_concurrency(plan_, compute_, options_.threads, options_.max_concurrency);
    result.budget = std::max(1, options_.threads);
    result.outcomes.resize(plan_.nodes.size());
    outcomes_ = &result.outcomes;

    tbb::task_arena arena(result.concurrency);
    arena.execute([&] {
      tbb::flow::graph g;
      std::vector<std::unique_ptr<tbb::flow::continue_node<tbb::flow::continue_msg>>> nodes;
      for (size_t i = 0; i < plan_.nodes.size(); ++i)
        nodes.push_back(std::make_unique<tbb::flow::continue_node<tbb::flow::continue_msg>>(
            g, [this, i](const tbb::flow::continue_msg&) {
              run_node(i);
              return tbb::flow::continue_msg();
            }));
      for (size_t i = 0; i < plan_.nodes.size(); ++i)
        for (const auto& in : plan_.nodes[i].inputs)
          tbb::flow::make_edge(*nodes[in.second], *nodes[i]);
      for (size_t i = 0; i < plan_.nodes.size(); ++i)
        if (plan_.nodes[i].inputs.empty()) nodes[i]->try_put(tbb::flow::continue_msg());
      g.wait_for_all();
    });
    for (const auto& o : result.outcomes) {
      result.failed |= o.status == NodeStatus::kFailed;
      result.killed |= o.status == NodeStatus::kKilled;
    }
    return result;
  }

 private:
  const Plan& plan_;
  const Registry& registry_;
  ExecutionListener& listener_;
  const ExecuteOptions& options_;
  NodeCache cache_;
  std::vector<std::optional<CacheRecord>> records_;
  std::vector<ArtifactPtr> outputs_;
  std::vector<bool> compute_, load_;
  std::vector<NodeOutcome>* outcomes_ = nullptr;
  ThreadBudget budget_;
  std::atomic<bool> no_stop_{false};
  const std::atomic<bool>* stop_;

  // Walk consumers before producers: a node is computed when it has no usable cache entry;
  // a producer with a usable entry is loaded, or recomputed if its output is not stored.
  void decide_what_to_compute() {
    size_t n = plan_.nodes.size();
    for (size_t i = 0; i < n; ++i)
      if (options_.read_cache && !options_.supplied.count(i))
        records_[i] = cache_.lookup(plan_.nodes[i].key);
    for (size_t k = n; k-- > 0;) {
      if (auto it = options_.supplied.find(k); it != options_.supplied.end()) {
        outputs_[k] = it->second;
        continue;
      }
      bool needed_by_compute = false;
      for (size_t c : plan_.nodes[k].consumers) needed_by_compute |= compute_[c];
      if (!records_[k]) {
        compute_[k] = true;
      } else if (needed_by_compute) {
        if (records_[k]->has_output)
          load_[k] = true;
        else
          compute_[k] = true;
      }
    }
  }

  void run_node(size_t i) {
    const PlannedNode& node = plan_.nodes[i];
    NodeOutcome& outcome = (*outcomes_)[i];
    outcome.start_time = unix_now();
    for (const auto& [port, producer] : node.inputs) {
      const NodeOutcome& up = (*outcomes_)[producer];
      if (up.status == NodeStatus::kFinished || up.status == NodeStatus::kCached) continue;
      bool killed = up.status == NodeStatus::kKilled;
      finish(i, killed ? NodeStatus::kKilled : NodeStatus::kSkipped,
             fmt::format("upstream node '{}' {}", plan_.nodes[producer].name,
                         killed ? "was interrupted" : "did not finish"));
      release_inputs(i);
      return;
    }
    if (stop_->load()) {
      finish(i, NodeStatus::kKilled, "run interrupted before this node started");
      release_inputs(i);
      return;
    }
    if (options_.supplied.count(i)) {  // given by the caller: nothing to run or record
      outcome.status = NodeStatus::kFinished;
      outcome.end_time = unix_now();
      return;
    }
    notify([&] { listener_.node_started(node); });
    try {
      if (compute_[i]) {
        compute(i);
        finish(i, NodeStatus::kFinished, "");
      } else if (load_[i] && !try_load(i)) {
        // A damaged cache entry (output deleted or unreadable) is recomputed and rewritten. Its
        // producers were not planned to be loaded, so load them now.
        for (const auto& [port, producer] : node.inputs)
          if (!outputs_[producer] && !try_load(producer))
            throw RunError(
                fmt::format("the cache entry of node '{}' is damaged and its input "
                            "'{}' is not cached; run again with --no-cache",
                            node.name, plan_.nodes[producer].name));
        compute(i);
        finish(i, NodeStatus::kFinished, "");
      } else {
        replay(i);
        finish(i, NodeStatus::kCached, "");
      }
    } catch (const Cancelled&) {
      finish(i, NodeStatus::kKilled, "interrupted");
    } catch (const std::exception& e) {
      finish(i, NodeStatus::kFailed,
             fmt::format("node '{}' (op {}) failed: {}", node.name, node.op->name, e.what()));
    }
    release_inputs(i);
  }

  void finish(size_t i, NodeStatus status, std::string error) {
    NodeOutcome& outcome = (*outcomes_)[i];
    outcome.status = status;
    outcome.error = std::move(error);
    outcome.end_time = unix_now();
    notify([&] { listener_.node_finished(plan_.nodes[i], outcome); });
  }

  // Reporting must not take a node down, nor escape a flow-graph body (that would cancel the
  // graph): a listener failure (the database is unwritable) is printed and the run goes on.
  template <class F>
  void notify(F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowlab: warning: could not record a node event: %s\n", e.what());
    }
  }

  void compute(size_t i) {
    const PlannedNode& node = plan_.nodes[i];
    std::map<std::string, ArtifactPtr> inputs;
    for (const auto& [port, producer] : node.inputs) inputs[port] = outputs_[producer];
    fs::path staging = cache_.stage(node.key);
    RecordingObserver observer(listener_, node, staging / "files");
    std::unique_ptr<NodeCheckpointer> checkpointer;
    if (!options_.checkpoint_dir.empty())
      checkpointer = std::make_unique<NodeCheckpointer>(options_.checkpoint_dir, node, observer,
                                                        options_.read_cache);
    const int slots = budget_.slots_for(node.threads);
    budget_.acquire(slots);
    struct Release {
      ThreadBudget& budget;
      int slots;
      ~Release() { budget.release(slots); }
    } release{budget_, slots};
    try {
      if (stop_->load()) throw Cancelled();  // interrupted while it waited for threads
      // The node's own threads, whatever the budget or its siblings: results depend on them.
      if (node.threads > 0 && registry_.runtime().set_threads)
        registry_.runtime().set_threads(node.threads);
      OpContext ctx(node.name, node.params, std::move(inputs), std::max(1, node.threads),
                    staging / "files", observer, *stop_, checkpointer.get(), &registry_);
      ArtifactPtr out = node.op->run(ctx);
      if (!out || out->type() != node.op->output_type)
        throw std::logic_error(fmt::format("op {} returned {} instead of a {}", node.op->name,
                                           out ? out->type() : "nothing", node.op->output_type));
      observer.record.op = node.op->name;
      observer.record.node = node.name;
      observer.record.has_output = node.op->cache_output;
      if (node.op->cache_output) out->save(staging / "output");
      fs::path entry = cache_.commit(staging, node.key, observer.record);
      if (checkpointer) checkpointer->clear();  // the cache now holds the finished result
      for (const auto& f : observer.record.files)
        notify([&] { listener_.artifact_file(node, entry / "files" / f.relative_path, f.kind); });
      if (!node.consumers.empty()) outputs_[i] = std::move(out);
    } catch (...) {
      cache_.discard(staging);
      throw;
    }
  }

  void replay(size_t i) {
    const PlannedNode& node = plan_.nodes[i];
    const CacheRecord& record = *records_[i];
    for (const auto& m : record.metrics) listener_.metric(node, m.key, m.step, m.value);
    fs::path entry = cache_.entry(node.key);
    for (const auto& f : record.files)
      listener_.artifact_file(node, entry / "files" / f.relative_path, f.kind);
  }

  bool try_load(size_t i) {
    try {
      load(i);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  void load(size_t i) {
    const PlannedNode& node = plan_.nodes[i];
    const ArtifactType* type = registry_.find_type(node.op->output_type);
    if (!type || !type->load)
      throw std::logic_error("artifact type '" + node.op->output_type + "' cannot be loaded");
    outputs_[i] = type->load(cache_.entry(node.key) / "output", registry_);
  }

  // Frees a producer's output once every consumer has run (a dataset can be large).
  void release_inputs(size_t i) {
    std::lock_guard<std::mutex> lock(release_mutex_);
    for (const auto& [port, producer] : plan_.nodes[i].inputs) {
      if (++consumed_[producer] == plan_.nodes[producer].consumers.size())
        outputs_[producer].reset();
    }
  }
  std::mutex release_mutex_;
  std::map<size_t, size_t> consumed_;
};

}  // namespace

ExecutionResult execute(const Plan& plan, const Registry& registry, ExecutionListener& listener,
                        const ExecuteOptions& options) {
  return Executor(plan, registry, listener, options).run();
}

}  // namespace flowlab
