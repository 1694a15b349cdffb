#include "experiments/cli/runner.h"

#include <openssl/evp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "experiments/cli/commands.h"
#include "experiments/cli/progress.h"
#include "experiments/cli/table.h"
#include "graph/compose.h"
#include "common/error.h"
#include "graph/executor.h"
#include "graph/plan.h"
#include "graph/sweep.h"
#include "graph/sweep_results.h"
#include "tracking/store.h"

#ifndef FLOWLAB_VERSION
#define FLOWLAB_VERSION "0.0.0"
#endif

namespace flowlab::cli {
namespace fs = std::filesystem;
using tracking::RunStatus;

std::string sha256_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) EVP_DigestUpdate(ctx, buffer, in.gcount());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

// `git rev-parse HEAD` in the spec's directory, run without a shell (paths may hold quotes).
std::string git_commit_of(const fs::path& spec) {
  std::string dir = fs::absolute(spec).parent_path().string();
  int fds[2];
  if (pipe(fds) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDERR_FILENO);
    close(fds[0]);
    execlp("git", "git", "-C", dir.c_str(), "rev-parse", "HEAD", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[128];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(got));
  close(fds[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  out.erase(out.find_last_not_of("\n\r ") + 1);
  return out;
}

std::string host_name() {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return name;
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------
// One run's worth of work: its composed spec, its plan and (once recorded) its run id.

struct Child {
  std::vector<std::string> overrides;  // every override of this child
  std::vector<std::string> axes;       // the sweep's share of them, for display
  ComposedSpec spec;
  Plan plan;
  int64_t run_id = 0;
  std::vector<size_t> merged;          // plan node index -> node index in the merged graph
};

Child compose_child(const RunOptions& options, const Registry& registry,
                    std::vector<std::string> overrides) {
  Child c;
  c.overrides = std::move(overrides);
  ComposeOptions compose_options{options.spec, options.config_dir, c.overrides};
  compose_options.declared_param = [&registry](const std::string& op, const std::string& param) {
    const OpDef* def = registry.find(op);
    return def && def->find_param(param);
  };
  c.spec = compose(compose_options);
  c.plan = make_plan(c.spec, registry);
  return c;
}

// Rebuilds a recorded run from its composed spec: no config files are read, so a resumed run
// computes exactly what was recorded even if configs/ changed since.
Child child_from_record(const tracking::RunRow& run, const Registry& registry) {
  Child c;
  c.spec = compose_text(run.composed_yaml, fmt::format("run {} (recorded spec)", run.id), "", {});
  c.spec.spec_file = run.spec_file;
  c.plan = make_plan(c.spec, registry);
  c.run_id = run.id;
  return c;
}

std::map<std::string, std::string> run_params(const Plan& plan, const ComposedSpec& spec) {
  std::map<std::string, std::string> params;
  params["seed"] = std::to_string(plan.seed);
  params["threads"] = plan.threads == 0 ? "auto" : std::to_string(plan.threads);
  params["device"] = plan.device;
  for (const auto& [group, option] : spec.group_choices) params["defaults." + group] = option;
  // Top-level scalars are the spec's own knobs (sigma: 0.25, interpolated into several nodes).
  for (const auto& kv : spec.root) {
    std::string key = kv.first.as<std::string>();
    if (kv.second.IsScalar() && key != "experiment" && !params.count(key)) params[key] = kv.second.Scalar();
  }
  for (const auto& node : plan.nodes) {
    params[node.name + ".op"] = node.op->name;
    for (const auto& [name, value] : node.params.values())
      params[node.name + "." + name] = to_string(value);
  }
  return params;
}

std::string overrides_json(const std::vector<std::string>& overrides) {
  return nlohmann::json(overrides).dump();
}

int64_t record_child(tracking::Store& store, const RunOptions& options, Child& c,
                     std::optional<int64_t> parent, const std::string& name,
                     const std::string& git_commit) {
  tracking::RunStart start;
  start.experiment = c.plan.experiment;
  start.name = name;
  start.parent_id = parent;
  start.spec_file = fs::absolute(options.spec).string();
  start.composed_yaml = c.spec.to_yaml();
  start.overrides = overrides_json(c.overrides);
  start.git_commit = git_commit;
  start.host = host_name();
  start.pid = getpid();
  start.seed = c.plan.seed;
  start.flowlab_version = FLOWLAB_VERSION;
  c.run_id = store.begin_run(start);
  store.log_params(c.run_id, run_params(c.plan, c.spec));
  return c.run_id;
}

// ---------------------------------------------------------------------------------------------
// Several plans as one graph: nodes with equal cache keys are merged, so work shared by sweep
// children (the dataset, a model evaluated several ways) is computed once.

struct Owner {
  size_t child;
  size_t node;  // index in that child's plan
};

struct MergedGraph {
  Plan plan;
  std::vector<std::vector<Owner>> owners;  // merged node -> the children's nodes it stands for
  std::map<std::string, size_t> by_name;
};

MergedGraph merge(std::vector<Child>& children) {
  MergedGraph g;
  std::map<std::string, size_t> by_key;
  for (size_t c = 0; c < children.size(); ++c) {
    Child& child = children[c];
    child.merged.assign(child.plan.nodes.size(), 0);
    for (size_t k = 0; k < child.plan.nodes.size(); ++k) {
      const PlannedNode& node = child.plan.nodes[k];
      auto it = by_key.find(node.key);
      if (it != by_key.end()) {
        child.merged[k] = it->second;
        g.owners[it->second].push_back({c, k});
        continue;
      }
      PlannedNode copy = node;
      copy.consumers.clear();
      for (auto& [port, producer] : copy.inputs) producer = child.merged[producer];
      child.merged[k] = g.plan.nodes.size();
      by_key[node.key] = g.plan.nodes.size();
      g.plan.nodes.push_back(std::move(copy));
      g.owners.push_back({{c, k}});
    }
  }
  // Producers always come before consumers (each child's plan is topologically ordered and
  // producers are merged first), so the merged list is ordered too.
  for (size_t i = 0; i < g.plan.nodes.size(); ++i)
    for (const auto& in : g.plan.nodes[i].inputs) g.plan.nodes[in.second].consumers.push_back(i);
  for (size_t i = 0; i < g.plan.nodes.size(); ++i) {
    // Progress lines name a node shared by every child plainly, others with their first child.
    // Names must be unique: events are routed to the children's runs by name.
    auto& node = g.plan.nodes[i];
    std::set<size_t> distinct;
    for (const auto& o : g.owners[i]) distinct.insert(o.child);
    if (children.size() > 1 && distinct.size() < children.size())
      node.name = fmt::format("{}[{}]", node.name, g.owners[i].front().child + 1);
    for (int k = 2; g.by_name.count(node.name); ++k) node.name = fmt::format("{}#{}", node.name, k);
    g.by_name[node.name] = i;
  }
  g.plan.experiment = children.front().plan.experiment;
  g.plan.threads = children.front().plan.threads;
  g.plan.seed = children.front().plan.seed;
  g.plan.device = children.front().plan.device;
  return g;
}

// Sends what the executor reports to every child run a merged node stands for.
class BatchListener : public ExecutionListener {
 public:
  BatchListener(const MergedGraph& graph, const std::vector<Child>& children,
                tracking::Store& store, tracking::MetricWriter& writer, ProgressPrinter& printer)
      : graph_(graph), children_(children), store_(store), writer_(writer), printer_(printer) {}

  void metric(const std::string& node, const std::string& key, int64_t step, double value) override {
    // A metric that cannot be written (the database stayed locked past its timeout) must not
    // kill a training: warn once and go on.
    try {
      for (const auto& o : owners(node))
        writer_.log_for(children_[o.child].run_id, child_node(o).name, key, step, value);
    } catch (const std::exception& e) {
      if (!warned_.exchange(true))
        std::fprintf(stderr, "flowlab: warning: metrics could not be recorded: %s\n", e.what());
    }
  }
  void progress(const std::string& node, double fraction, const std::string& message) override {
    printer_.update(node, fraction, message);
  }
  void artifact_file(const std::string& node, const fs::path& path, const std::string& kind) override {
    std::error_code ec;
    tracking::ArtifactRow row{"", path.string(), kind, sha256_file(path),
                              static_cast<int64_t>(fs::file_size(path, ec))};
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& o : owners(node)) {
      row.node = child_node(o).name;
      store_.record_artifact(children_[o.child].run_id, row);
    }
  }
  void node_started(const PlannedNode& node) override { printer_.started(node.name, node.op->name); }
  void node_finished(const PlannedNode& node, const NodeOutcome& outcome) override {
    printer_.finished(node.name, to_string(outcome.status), outcome.end_time - outcome.start_time,
                      outcome.error);
    std::lock_guard<std::mutex> lock(mutex_);
    bool first = true;
    for (const auto& o : owners(node.name)) {
      tracking::NodeExecution exec;
      exec.node = child_node(o).name, exec.op = node.op->name, exec.cache_key = node.key;
      exec.status = to_string(outcome.status);
      // Only the first child that needs a shared node computes it; the others reuse its output.
      exec.cache_hit = outcome.status == NodeStatus::kCached ||
                       (!first && outcome.status == NodeStatus::kFinished);
      exec.start_time = outcome.start_time, exec.end_time = outcome.end_time;
      exec.error = outcome.error;
      store_.record_node(children_[o.child].run_id, exec);
      first = false;
    }
  }

 private:
  const std::vector<Owner>& owners(const std::string& merged_name) const {
    return graph_.owners.at(graph_.by_name.at(merged_name));
  }
  const PlannedNode& child_node(const Owner& o) const { return children_[o.child].plan.nodes[o.node]; }

  const MergedGraph& graph_;
  const std::vector<Child>& children_;
  tracking::Store& store_;
  tracking::MetricWriter& writer_;
  ProgressPrinter& printer_;
  std::mutex mutex_;
  std::atomic<bool> warned_{false};
};

// Keeps the runs' heartbeats fresh from a thread of its own, so `flowlab runs` can tell a live
// run from one whose process died (a trainer may log nothing for minutes).
class Heartbeat {
 public:
  Heartbeat(fs::path db, std::vector<int64_t> run_ids) : db_(std::move(db)), ids_(std::move(run_ids)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void loop() {
    std::unique_ptr<tracking::Store> store;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return done_; })) {
      lock.unlock();
      // A missed heartbeat only makes a live run look stale for a while; never stop for it.
      try {
        if (!store) store = std::make_unique<tracking::Store>(db_);
        for (int64_t id : ids_) store->heartbeat(id);
      } catch (const std::exception&) {
        store.reset();
      }
      lock.lock();
    }
  }
  fs::path db_;
  std::vector<int64_t> ids_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

struct BatchResult {
  ExecutionResult exec;
  std::vector<RunStatus> status;    // per child
  std::vector<std::string> errors;  // per child
  double seconds = 0;
};

int resolve_threads(const RunOptions& options, const Plan& plan) {
  int threads = options.threads > 0 ? options.threads : plan.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return threads;
}

// Executes the children (already recorded as RUNNING) as one graph and records how each ended.
BatchResult execute_children(std::vector<Child>& children, const RunOptions& options,
                             const Registry& registry, tracking::Store& store,
                             std::vector<int64_t> heartbeat_ids, std::ostream& err,
                             const std::atomic<bool>& stop) {
  MergedGraph graph = merge(children);
  BatchResult result;
  std::string fatal;
  const double t0 = now_s();
  {
    // One writer for every child: a thread and a connection, however large the sweep.
    tracking::MetricWriter writer(options.workspace / "runs.db", children.front().run_id);
    for (const auto& c : children) heartbeat_ids.push_back(c.run_id);
    Heartbeat heartbeat(options.workspace / "runs.db", heartbeat_ids);
    ProgressPrinter printer(err, options.quiet, graph.plan.nodes.size());
    BatchListener listener(graph, children, store, writer, printer);
    ExecuteOptions exec;
    exec.threads = resolve_threads(options, graph.plan);
    exec.max_concurrency = options.jobs;
    exec.read_cache = !options.no_cache;
    exec.cache_dir = options.workspace / "cache";
    exec.checkpoint_dir = options.workspace / "checkpoints";
    exec.stop = &stop;
    try {
      result.exec = execute(graph.plan, registry, listener, exec);
    } catch (const std::exception& e) {
      // Nothing should escape the executor; if something does, no run may stay RUNNING.
      fatal = std::string("internal error while running the graph: ") + e.what();
    }
    try {
      writer.flush();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "flowlab: warning: some metrics were not recorded: %s\n", e.what());
    }
  }
  if (!fatal.empty()) {
    for (const auto& c : children) store.finish_run(c.run_id, RunStatus::kFailed, fatal);
    throw RunError(fatal);
  }
  result.seconds = now_s() - t0;
  for (size_t c = 0; c < children.size(); ++c) {
    std::string error;
    bool failed = false, killed = false;
    for (size_t k = 0; k < children[c].merged.size(); ++k) {
      const size_t m = children[c].merged[k];
      const NodeOutcome& o = result.exec.outcomes[m];
      failed |= o.status == NodeStatus::kFailed;
      killed |= o.status == NodeStatus::kKilled;
      if (o.status != NodeStatus::kFailed) continue;
      // The message names the merged node ("train[2]"); this run knows it by its own name.
      std::string message = o.error;
      const std::string merged_name = "node '" + graph.plan.nodes[m].name + "'";
      if (auto at = message.find(merged_name); at != std::string::npos)
        message.replace(at, merged_name.size(), "node '" + children[c].plan.nodes[k].name + "'");
      error += (error.empty() ? "" : "\n") + message;
    }
    RunStatus status = failed ? RunStatus::kFailed : killed ? RunStatus::kKilled : RunStatus::kFinished;
    if (status == RunStatus::kKilled && error.empty()) error = "interrupted";
    store.finish_run(children[c].run_id, status, error);
    result.status.push_back(status);
    result.errors.push_back(error);
  }
  return result;
}

int exit_code_of(const std::vector<RunStatus>& statuses) {
  bool failed = false, killed = false;
  for (auto s : statuses) failed |= s == RunStatus::kFailed, killed |= s == RunStatus::kKilled;
  return killed ? 130 : failed ? 1 : 0;
}

// Summary metrics of a run: final values logged by its sink nodes (the evaluators), without the
// per-class breakdowns.
std::vector<tracking::MetricRow> headline_metrics(const tracking::Store& store, const Child& c) {
  std::set<std::string> sinks;
  for (const auto& n : c.plan.nodes)
    if (n.consumers.empty()) sinks.insert(n.name);
  // Housekeeping numbers and per-radius curves make tables unreadably wide; keep the headline
  // and a few summary values (every value stays in the database and in `flowlab show`).
  static const std::set<std::string> kHousekeeping = {"samples_per_s", "seconds_per_image", "images",
                                                      "max_radius", "n_train", "n_val", "n_test"};
  std::vector<tracking::MetricRow> out;
  for (const auto& m : store.final_metrics(c.run_id))
    if (sinks.count(m.node) && !kHousekeeping.count(m.key) &&
        (m.key == "certified_accuracy@0.5" || m.key == "certified_accuracy@1" ||
         m.key.find_first_of(".@") == std::string::npos))
      out.push_back(m);
  if (out.size() > 6) out.resize(6);
  return out;
}

void print_single_summary(std::ostream& out, const tracking::Store& store, const Child& child,
                          const BatchResult& result) {
  auto run = store.get_run(child.run_id);
  out << fmt::format("\nrun {} {} in {:.1f} s  (experiment {}; {} node(s) at once x {} thread(s))\n",
                     child.run_id, tracking::to_string(run->status), result.seconds,
                     child.plan.experiment, result.exec.concurrency, result.exec.threads_per_node);
  Table nodes{{"node", "op", "status", "seconds"}, {}, {false, false, false, true}};
  for (size_t k = 0; k < child.plan.nodes.size(); ++k) {
    const auto& o = result.exec.outcomes[child.merged[k]];
    nodes.add_row({child.plan.nodes[k].name, child.plan.nodes[k].op->name, to_string(o.status),
                   fmt::format("{:.2f}", o.end_time - o.start_time)});
  }
  print(nodes, Format::kTable, out);
  Table metrics{{"node", "metric", "value"}, {}, {false, false, true}};
  for (const auto& m : store.final_metrics(child.run_id)) {
    if (m.key.rfind("class_accuracy.", 0) == 0 || m.key == "samples_per_s" || m.key == "loss" ||
        m.key == "val_loss" || m.key == "val_acc")
      continue;  // per-class and per-step series: see `flowlab show`
    metrics.add_row({m.node, m.key, format_number(m.value)});
  }
  if (!metrics.rows.empty()) {
    out << "\n";
    print(metrics, Format::kTable, out);
  }
}

// Above this many children the sweep's summary gives counts instead of a row per child.
constexpr size_t kSweepTableMaxRows = 100;

void print_sweep_summary(std::ostream& out, const tracking::Store& store, int64_t parent,
                         const std::vector<Child>& children, const BatchResult& result) {
  // Columns: the union of the children's headline metrics, in first-seen order. Read only when the
  // table is printed (a query per child: thousands of them for a large sweep).
  const bool with_table = children.size() <= kSweepTableMaxRows;
  std::vector<std::string> keys;
  std::vector<std::map<std::string, double>> values(children.size());
  for (size_t c = 0; with_table && c < children.size(); ++c)
    for (const auto& m : headline_metrics(store, children[c])) {
      std::string k = m.node + "." + m.key;
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      values[c][k] = m.value;
    }
  Table t{{"run", "overrides", "status"}, {}, {true, false, false}};
  for (const auto& k : keys) t.columns.push_back(k), t.numeric.push_back(true);
  for (size_t c = 0; with_table && c < children.size(); ++c) {
    std::string axes;
    for (const auto& a : children[c].axes) axes += (axes.empty() ? "" : " ") + a;
    std::vector<std::string> row{std::to_string(children[c].run_id), axes,
                                 tracking::to_string(result.status[c])};
    for (const auto& k : keys)
      row.push_back(values[c].count(k) ? format_number(values[c][k]) : "");
    t.add_row(row);
  }
  auto parent_run = store.get_run(parent);
  out << fmt::format("\nsweep {} {}: {} children in {:.1f} s  ({} node(s) at once x {} thread(s); "
                     "{} distinct nodes for {} planned)\n",
                     parent, tracking::to_string(parent_run->status), children.size(), result.seconds,
                     result.exec.concurrency, result.exec.threads_per_node,
                     result.exec.outcomes.size(), [&] {
                       size_t n = 0;
                       for (const auto& c : children) n += c.plan.nodes.size();
                       return n;
                     }());
  if (with_table) {
    print(t, Format::kTable, out);
  } else {
    // Thousands of rows help no one on a terminal: counts here, the rows one query away.
    std::vector<std::string> statuses;
    for (size_t c = 0; c < children.size(); ++c) statuses.push_back(tracking::to_string(result.status[c]));
    out << fmt::format("children: {}  {}\n", children_counts(statuses), children_query_hint(parent));
  }
  size_t failures_shown = 0;
  for (size_t c = 0; c < children.size(); ++c)
    if (!result.errors[c].empty() && result.status[c] == RunStatus::kFailed && failures_shown++ < 20)
      out << fmt::format("run {}: {}\n", children[c].run_id, result.errors[c]);
  if (failures_shown > 20) out << fmt::format("... and {} more failed children\n", failures_shown - 20);

  // What the sweep's aggregate nodes recorded on the parent: their metrics and files.
  Table aggregate{{"node", "metric", "value"}, {}, {false, false, true}};
  for (const auto& m : store.final_metrics(parent)) aggregate.add_row({m.node, m.key, format_number(m.value)});
  if (!aggregate.rows.empty()) {
    out << fmt::format("\naggregates (recorded on run {}):\n", parent);
    print(aggregate, Format::kTable, out);
    for (const auto& a : store.artifacts(parent)) out << fmt::format("  {}  {}\n", a.kind, a.path);
  }
}

RunStatus sweep_status(const tracking::Store& store, int64_t parent) {
  std::vector<RunStatus> statuses;
  for (const auto& c : store.children(parent)) statuses.push_back(c.status);
  int code = exit_code_of(statuses);
  return code == 130 ? RunStatus::kKilled : code == 1 ? RunStatus::kFailed : RunStatus::kFinished;
}

std::string sweep_error_summary(const tracking::Store& store, int64_t parent);

std::string run_aggregates(const Plan& aggregates, int64_t parent, const RunOptions& options,
                           tracking::Store& store, std::ostream& err, const std::atomic<bool>& stop);
Plan plan_aggregates(const YAML::Node& block, const std::string& where, const Registry& registry);

// Re-runs the aggregates recorded with a sweep (on resume). Failures, including an aggregate op
// that no longer validates, come back as text so the parent never stays RUNNING; an interrupt
// leaves no error, so the parent ends KILLED and a later resume runs them again.
std::string rerun_recorded_aggregates(const tracking::RunRow& parent, const RunOptions& options,
                                      const Registry& registry, tracking::Store& store,
                                      std::ostream& err, const std::atomic<bool>& stop) {
  try {
    YAML::Node summary = YAML::Load(parent.composed_yaml);
    Plan aggregates = plan_aggregates(summary["aggregate"], fmt::format("run {} (recorded sweep)", parent.id), registry);
    std::string errors = run_aggregates(aggregates, parent.id, options, store, err, stop);
    return stop.load() ? "" : errors;
  } catch (const std::exception& e) {
    return std::string("aggregate nodes could not run: ") + e.what();
  }
}

// The parent's final status: its children's, or FAILED when an aggregate node failed.
void finish_sweep(tracking::Store& store, int64_t parent, const std::string& aggregate_errors,
                  bool interrupted = false) {
  RunStatus status = sweep_status(store, parent);
  std::string error = sweep_error_summary(store, parent);
  if (interrupted && status == RunStatus::kFinished) {
    store.finish_run(parent, RunStatus::kKilled, "interrupted");  // resume runs the aggregates
    return;
  }
  if (!aggregate_errors.empty()) {
    if (status == RunStatus::kFinished) status = RunStatus::kFailed;
    error += (error.empty() ? "" : "\n") + aggregate_errors;
  }
  store.finish_run(parent, status, error);
}

std::string sweep_error_summary(const tracking::Store& store, int64_t parent) {
  int failed = 0, killed = 0;
  for (const auto& c : store.children(parent))
    failed += c.status == RunStatus::kFailed, killed += c.status == RunStatus::kKilled;
  if (!failed && !killed) return "";
  return fmt::format("{} child run(s) failed, {} interrupted", failed, killed);
}

// ---------------------------------------------------------------------------------------------
// Aggregate nodes: ops that run after a sweep's children, on their params and final metrics, and
// record summary metrics on the parent run (`sweep: {aggregate: {name: {op, params}}}`).

// Validates the aggregate block against the registry like any node (unknown op or param, wrong
// types), before anything runs. Aggregate ops take no graph inputs: they read the children.
Plan plan_aggregates(const YAML::Node& block, const std::string& where, const Registry& registry) {
  if (!block.IsDefined() || block.IsNull()) return {};
  YAML::Node spec;
  spec["nodes"] = YAML::Clone(block);
  YAML::Emitter emitter;
  emitter << spec;
  ComposedSpec composed = compose_text(emitter.c_str(), where, "", {});
  Plan plan = make_plan(composed, registry);
  for (const auto& n : plan.nodes)
    if (!n.inputs.empty() || !n.op->inputs.empty())
      throw ConfigError(SourceLocation{where}, "nodes." + n.name + ".op",
                        "op " + n.op->name + " reads graph inputs; an aggregate op must not (it reads "
                        "the sweep's child runs)");
  return plan;
}

std::shared_ptr<SweepResults> collect_children(const tracking::Store& store, int64_t parent) {
  auto results = std::make_shared<SweepResults>();
  results->parent_run_id = parent;
  for (const auto& c : store.children(parent)) {
    ChildResult r;
    r.run_id = c.id;
    r.status = tracking::to_string(c.status);
    try {
      for (const auto& o : nlohmann::json::parse(c.overrides)) r.overrides.push_back(o);
    } catch (const nlohmann::json::exception&) {
    }
    r.params = store.params(c.id);
    for (const auto& m : store.final_metrics(c.id)) r.metrics[m.node + "." + m.key] = m.value;
    results->children.push_back(std::move(r));
  }
  return results;
}

// Runs each aggregate node on the parent run: metrics and files are recorded there. Returns the
// failures ("" when all finished).
std::string run_aggregates(const Plan& aggregates, int64_t parent, const RunOptions& options,
                           tracking::Store& store, std::ostream& err, const std::atomic<bool>& stop) {
  if (aggregates.nodes.empty()) return "";
  auto results = collect_children(store, parent);
  std::string failures;
  tracking::MetricWriter writer(options.workspace / "runs.db", parent);
  ProgressPrinter printer(err, options.quiet);
  struct Observer : RunObserver {
    tracking::MetricWriter& writer;
    ProgressPrinter& printer;
    tracking::Store& store;
    int64_t run;
    Observer(tracking::MetricWriter& w, ProgressPrinter& p, tracking::Store& s, int64_t r)
        : writer(w), printer(p), store(s), run(r) {}
    void metric(const std::string& node, const std::string& key, int64_t step, double value) override {
      writer.log(node, key, step, value);
    }
    void progress(const std::string& node, double fraction, const std::string& message) override {
      printer.update(node, fraction, message);
    }
    void artifact_file(const std::string& node, const fs::path& path, const std::string& kind) override {
      std::error_code ec;
      store.record_artifact(run, {node, path.string(), kind, sha256_file(path),
                                  static_cast<int64_t>(fs::file_size(path, ec))});
    }
  } observer(writer, printer, store, parent);
  for (const auto& node : aggregates.nodes) {
    fs::path dir = options.workspace / "runs" / std::to_string(parent) / node.name;
    fs::create_directories(dir);
    tracking::NodeExecution exec;
    exec.node = node.name, exec.op = node.op->name, exec.cache_key = node.key;
    exec.start_time = now_s();
    printer.started(node.name, node.op->name);
    try {
      OpContext ctx(node.name, node.params, {{"runs", results}}, resolve_threads(options, aggregates),
                    dir, observer, stop);
      node.op->run(ctx);
      exec.status = "FINISHED";
    } catch (const std::exception& e) {
      exec.status = "FAILED";
      exec.error = fmt::format("aggregate node '{}' (op {}) failed: {}", node.name, node.op->name, e.what());
      failures += (failures.empty() ? "" : "\n") + exec.error;
    }
    exec.end_time = now_s();
    printer.finished(node.name, exec.status, exec.end_time - exec.start_time, exec.error);
    store.record_node(parent, exec);
  }
  writer.flush();
  return failures;
}

}  // namespace

RunOutcome run_spec(const RunOptions& options, const Registry& registry, std::ostream& out,
                    std::ostream& err, const std::atomic<bool>& stop) {
  std::vector<Child> children;
  children.push_back(compose_child(options, registry, options.overrides));
  if (options.print_config) {
    out << children.front().spec.to_yaml();
    return {};
  }
  // Everything above can fail on user input; nothing below runs until it has all passed.
  fs::create_directories(options.workspace);
  tracking::Store store(options.workspace / "runs.db");
  Child& child = children.front();
  record_child(store, options, child, std::nullopt, options.spec.stem().string(),
               git_commit_of(options.spec));
  err << fmt::format("run {}: {} ({} nodes, workspace {})\n", child.run_id, child.plan.experiment,
                     child.plan.nodes.size(), options.workspace.string());
  BatchResult result = execute_children(children, options, registry, store, {}, err, stop);
  print_single_summary(out, store, child, result);
  if (!result.errors[0].empty() && result.status[0] == RunStatus::kFailed)
    err << "error: " << result.errors[0] << "\n";
  return {exit_code_of(result.status), child.run_id};
}

RunOutcome run_sweep(const RunOptions& options, const Registry& registry, std::ostream& out,
                     std::ostream& err, const std::atomic<bool>& stop) {
  // The primary spec's `sweep:` block, read before composition (it is not a config group).
  YAML::Node primary = load_yaml_file(options.spec);
  fs::path config_dir = options.config_dir.empty() ? find_config_dir(options.spec) : options.config_dir;
  YAML::Node block = primary.IsMap() ? static_cast<const YAML::Node&>(primary)["sweep"] : YAML::Node();
  SweepExpansion sweep = expand_sweep(block, options.spec.string(), options.overrides, config_dir);
  YAML::Node aggregate_block = block.IsDefined() && block.IsMap()
                                   ? YAML::Clone(static_cast<const YAML::Node&>(block)["aggregate"])
                                   : YAML::Node();
  Plan aggregates =
      plan_aggregates(aggregate_block, options.spec.string() + " (sweep.aggregate)", registry);

  // Compose and validate every child before anything is recorded.
  std::vector<Child> children;
  for (size_t i = 0; i < sweep.children.size(); ++i) {
    try {
      children.push_back(compose_child(options, registry, sweep.children[i]));
    } catch (const ConfigError&) {
      std::string list;
      for (const auto& o : sweep.children[i]) list += " " + o;
      err << fmt::format("in sweep child {} of {}:{}\n", i + 1, sweep.children.size(), list);
      throw;
    }
    children.back().axes.assign(sweep.children[i].begin() + sweep.fixed.size(), sweep.children[i].end());
  }
  // The children share one graph and one thread budget, so these must be the same for all.
  for (const auto& c : children)
    if (c.plan.threads != children.front().plan.threads || c.plan.device != children.front().plan.device)
      throw ConfigError(SourceLocation{"command line"}, "threads",
                        "sweep children must share `threads` and `device` (they run as one graph); "
                        "set them once, not as sweep axes");
  if (options.dry_run) {
    Table t{{"child", "overrides", "nodes"}, {}, {true, false, true}};
    for (size_t i = 0; i < children.size(); ++i) {
      std::string axes;
      for (const auto& a : children[i].axes) axes += (axes.empty() ? "" : " ") + a;
      t.add_row({std::to_string(i + 1), axes, std::to_string(children[i].plan.nodes.size())});
    }
    print(t, Format::kTable, out);
    out << fmt::format("{} children (dry run: nothing was run or recorded)\n", children.size());
    return {};
  }

  fs::create_directories(options.workspace);
  tracking::Store store(options.workspace / "runs.db");
  // The parent run records the sweep itself: its axes, fixed overrides and size.
  tracking::RunStart start;
  start.experiment = children.front().plan.experiment;
  start.name = options.spec.stem().string() + " (sweep)";
  start.spec_file = fs::absolute(options.spec).string();
  YAML::Node summary;
  for (const auto& axis : sweep.axes)
    for (const auto& v : axis.values) summary["axes"][axis.key].push_back(v);
  for (const auto& f : sweep.fixed) summary["fixed"].push_back(f);
  summary["children"] = children.size();
  if (aggregate_block.IsDefined() && !aggregate_block.IsNull()) summary["aggregate"] = aggregate_block;
  YAML::Emitter emitter;
  emitter << summary;
  start.composed_yaml = std::string(emitter.c_str()) + "\n";
  start.overrides = overrides_json(options.overrides);
  start.git_commit = git_commit_of(options.spec);
  start.host = host_name();
  start.pid = getpid();
  start.seed = children.front().plan.seed;
  start.flowlab_version = FLOWLAB_VERSION;
  int64_t parent = store.begin_run(start);
  std::map<std::string, std::string> parent_params;
  for (const auto& axis : sweep.axes) {
    std::string values;
    for (const auto& v : axis.values) values += (values.empty() ? "" : ",") + v;
    parent_params["sweep." + axis.key] = values;
  }
  store.log_params(parent, parent_params);
  for (size_t i = 0; i < children.size(); ++i)
    record_child(store, options, children[i], parent,
                 fmt::format("{}[{}]", options.spec.stem().string(), i + 1), start.git_commit);
  err << fmt::format("sweep {}: {} children of {} (workspace {})\n", parent, children.size(),
                     children.front().plan.experiment, options.workspace.string());

  BatchResult result = execute_children(children, options, registry, store, {parent}, err, stop);
  std::string aggregate_errors = stop.load() ? "" : run_aggregates(aggregates, parent, options, store, err, stop);
  if (stop.load()) aggregate_errors.clear();  // interrupted: the parent ends KILLED, resume reruns them
  finish_sweep(store, parent, aggregate_errors, stop.load());
  print_sweep_summary(out, store, parent, children, result);
  int code = exit_code_of(result.status);
  return {code == 0 && !aggregate_errors.empty() ? 1 : code, parent};
}

RunOutcome resume_run(int64_t run_id, const RunOptions& options, const Registry& registry,
                      std::ostream& out, std::ostream& err, const std::atomic<bool>& stop) {
  fs::path db = options.workspace / "runs.db";
  if (!fs::exists(db))
    throw ConfigError(SourceLocation{db.string()}, "", "no results database here; pass --workspace");
  tracking::Store store(db);
  auto run = store.get_run(run_id);
  if (!run) throw ConfigError(SourceLocation{"command line"}, "RUN", fmt::format("no run with id {}", run_id));
  if (run_process_alive(*run))
    throw ConfigError(SourceLocation{"command line"}, "RUN",
                      fmt::format("run {} is still running (pid {} on {})", run_id, run->pid, run->host));
  auto recorded_children = store.children(run_id);
  for (const auto& c : recorded_children)
    if (run_process_alive(c))
      throw ConfigError(SourceLocation{"command line"}, "RUN",
                        fmt::format("run {} of sweep {} is still running (pid {} on {})", c.id,
                                    run_id, c.pid, c.host));
  if (run->parent_id) {
    auto parent = store.get_run(*run->parent_id);
    if (parent && run_process_alive(*parent))
      throw ConfigError(SourceLocation{"command line"}, "RUN",
                        fmt::format("its sweep {} is still running (pid {}); resume the sweep when "
                                    "it has ended", parent->id, parent->pid));
  }
  if (run->name.size() > 8 && run->name.compare(run->name.size() - 8, 8, " (sweep)") == 0) {
    // A sweep killed while its children were being recorded cannot be resumed child by child.
    YAML::Node summary = YAML::Load(run->composed_yaml);
    size_t expected = summary["children"] ? summary["children"].as<size_t>() : 0;
    if (recorded_children.size() < expected)
      throw ConfigError(SourceLocation{"command line"}, "RUN",
                        fmt::format("sweep {} was interrupted while its children were being "
                                    "recorded ({} of {}); run the sweep again (finished work is "
                                    "cached)", run_id, recorded_children.size(), expected));
  }

  std::vector<Child> children;
  std::vector<tracking::RunRow> todo;
  if (recorded_children.empty()) {
    if (run->status == RunStatus::kFinished) {
      out << fmt::format("run {} already FINISHED; nothing to resume\n", run_id);
      return {0, run_id};
    }
    todo.push_back(*run);
  } else {
    for (const auto& c : recorded_children)
      if (c.status != RunStatus::kFinished) todo.push_back(c);
    if (todo.empty()) {
      out << fmt::format("sweep {}: all {} children FINISHED\n", run_id, recorded_children.size());
      if (run->status == RunStatus::kFinished) return {0, run_id};
      // Killed (or failed) while its aggregates ran: run them again.
      store.restart_run(run_id, getpid());
      std::string aggregate_errors = rerun_recorded_aggregates(*run, options, registry, store, err, stop);
      finish_sweep(store, run_id, aggregate_errors, stop.load());
      if (!aggregate_errors.empty()) err << "error: " << aggregate_errors << "\n";
      return {stop.load() ? 130 : aggregate_errors.empty() ? 0 : 1, run_id};
    }
  }
  for (const auto& r : todo) {
    children.push_back(child_from_record(r, registry));
    try {
      for (const auto& o : nlohmann::json::parse(r.overrides)) children.back().overrides.push_back(o);
    } catch (const nlohmann::json::exception&) {
    }
    children.back().axes = children.back().overrides;
  }
  // Validation passed for every child: only now touch the records.
  std::vector<int64_t> heartbeat_ids;
  if (!recorded_children.empty()) {
    store.restart_run(run_id, getpid());
    heartbeat_ids.push_back(run_id);
  }
  for (const auto& c : children) store.restart_run(c.run_id, getpid());
  err << fmt::format("resuming {} {}: {} run(s) to finish (workspace {})\n",
                     recorded_children.empty() ? "run" : "sweep", run_id, children.size(),
                     options.workspace.string());
  RunOptions opts = options;
  opts.spec = run->spec_file;
  BatchResult result = execute_children(children, opts, registry, store, heartbeat_ids, err, stop);

  int64_t parent = recorded_children.empty() ? run->parent_id.value_or(0) : run_id;
  std::string aggregate_errors;
  if (parent != 0) {
    // The aggregates see every child, so they run again once all have finished.
    auto parent_run = store.get_run(parent);
    if (!stop.load() && sweep_status(store, parent) == RunStatus::kFinished && parent_run)
      aggregate_errors = rerun_recorded_aggregates(*parent_run, opts, registry, store, err, stop);
    finish_sweep(store, parent, aggregate_errors, stop.load());
    if (!recorded_children.empty()) print_sweep_summary(out, store, parent, children, result);
  }
  if (recorded_children.empty()) print_single_summary(out, store, children.front(), result);
  int code = exit_code_of(result.status);
  return {code == 0 && !aggregate_errors.empty() ? 1 : code, run_id};
}

}  // namespace flowlab::cli
