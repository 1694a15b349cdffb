#include "experiments/cli/runner.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "experiments/cli/progress.h"
#include "experiments/cli/table.h"
#include "graph/compose.h"
#include "graph/executor.h"
#include "graph/plan.h"
#include "tracking/store.h"

#ifndef FLOWLAB_VERSION
#define FLOWLAB_VERSION "0.0.0"
#endif

namespace flowlab::cli {
namespace fs = std::filesystem;

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

std::string git_commit_of(const fs::path& spec) {
  std::string dir = fs::absolute(spec).parent_path().string();
  std::string cmd = "git -C '" + dir + "' rev-parse HEAD 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return "";
  char line[128] = {0};
  std::string out = fgets(line, sizeof line, pipe) ? line : "";
  pclose(pipe);
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

// Sends everything the executor reports to the database and the terminal.
class RecordingListener : public ExecutionListener {
 public:
  RecordingListener(tracking::Store& store, tracking::MetricWriter& writer, int64_t run_id,
                    ProgressPrinter& printer)
      : store_(store), writer_(writer), run_id_(run_id), printer_(printer) {}

  void metric(const std::string& node, const std::string& key, int64_t step, double value) override {
    writer_.log(node, key, step, value);
  }
  void progress(const std::string& node, double fraction, const std::string& message) override {
    printer_.update(node, fraction, message);
  }
  void artifact_file(const std::string& node, const fs::path& path, const std::string& kind) override {
    tracking::ArtifactRow row{node, path.string(), kind, sha256_file(path), 0};
    std::error_code ec;
    row.size = static_cast<int64_t>(fs::file_size(path, ec));
    std::lock_guard<std::mutex> lock(mutex_);
    store_.record_artifact(run_id_, row);
  }
  void node_started(const PlannedNode& node) override { printer_.started(node.name, node.op->name); }
  void node_finished(const PlannedNode& node, const NodeOutcome& outcome) override {
    printer_.finished(node.name, to_string(outcome.status), outcome.end_time - outcome.start_time,
                      outcome.error);
    tracking::NodeExecution exec;
    exec.node = node.name, exec.op = node.op->name, exec.cache_key = node.key;
    exec.status = to_string(outcome.status);
    exec.cache_hit = outcome.status == NodeStatus::kCached;
    exec.start_time = outcome.start_time, exec.end_time = outcome.end_time;
    exec.error = outcome.error;
    std::lock_guard<std::mutex> lock(mutex_);
    store_.record_node(run_id_, exec);
  }

 private:
  tracking::Store& store_;
  tracking::MetricWriter& writer_;
  int64_t run_id_;
  ProgressPrinter& printer_;
  std::mutex mutex_;
};

std::map<std::string, std::string> run_params(const Plan& plan, const ComposedSpec& spec) {
  std::map<std::string, std::string> params;
  params["seed"] = std::to_string(plan.seed);
  params["threads"] = plan.threads == 0 ? "auto" : std::to_string(plan.threads);
  params["device"] = plan.device;
  for (const auto& [group, option] : spec.group_choices) params["defaults." + group] = option;
  for (const auto& node : plan.nodes) {
    params[node.name + ".op"] = node.op->name;
    for (const auto& [name, value] : node.params.values())
      params[node.name + "." + name] = to_string(value);
  }
  return params;
}

void print_summary(std::ostream& out, const tracking::Store& store, int64_t run_id,
                   const Plan& plan, const ExecutionResult& result, double wall) {
  auto run = store.get_run(run_id);
  out << fmt::format("\nrun {} {} in {:.1f} s  (experiment {}; {} node(s) at once x {} thread(s))\n",
                     run_id, tracking::to_string(run->status), wall, plan.experiment,
                     result.concurrency, result.threads_per_node);
  Table nodes{{"node", "op", "status", "seconds"}, {}, {false, false, false, true}};
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const auto& o = result.outcomes[i];
    nodes.add_row({plan.nodes[i].name, plan.nodes[i].op->name, to_string(o.status),
                   fmt::format("{:.2f}", o.end_time - o.start_time)});
  }
  print(nodes, Format::kTable, out);
  Table metrics{{"node", "metric", "value"}, {}, {false, false, true}};
  for (const auto& m : store.final_metrics(run_id)) {
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

}  // namespace

RunOutcome run_spec(const RunOptions& options, const Registry& registry, std::ostream& out,
                    std::ostream& err, const std::atomic<bool>& stop) {
  ComposeOptions compose_options{options.spec, options.config_dir, options.overrides};
  ComposedSpec spec = compose(compose_options);
  if (options.print_config) {
    out << spec.to_yaml();
    return {};
  }
  Plan plan = make_plan(spec, registry);
  int threads = options.threads > 0 ? options.threads : plan.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // Everything above can fail on user input; nothing below runs until it has all passed.
  fs::create_directories(options.workspace);
  tracking::Store store(options.workspace / "runs.db");
  tracking::RunStart start;
  start.experiment = plan.experiment;
  start.name = options.spec.stem().string();
  start.spec_file = fs::absolute(options.spec).string();
  start.composed_yaml = spec.to_yaml();
  for (const auto& o : options.overrides) start.overrides += (start.overrides.empty() ? "" : " ") + o;
  start.git_commit = git_commit_of(options.spec);
  start.host = host_name();
  start.pid = getpid();
  start.seed = plan.seed;
  start.flowlab_version = FLOWLAB_VERSION;
  int64_t run_id = store.begin_run(start);
  store.log_params(run_id, run_params(plan, spec));
  err << fmt::format("run {}: {} ({} nodes, workspace {})\n", run_id, plan.experiment,
                     plan.nodes.size(), options.workspace.string());

  const double t0 = now_s();
  ExecutionResult result;
  {
    tracking::MetricWriter writer(options.workspace / "runs.db", run_id);
    ProgressPrinter printer(err, options.quiet);
    RecordingListener listener(store, writer, run_id, printer);
    ExecuteOptions exec;
    exec.threads = threads;
    exec.read_cache = !options.no_cache;
    exec.cache_dir = options.workspace / "cache";
    exec.stop = &stop;
    result = execute(plan, registry, listener, exec);
    writer.flush();
  }
  std::string error;
  for (const auto& o : result.outcomes)
    if (o.status == NodeStatus::kFailed) error += (error.empty() ? "" : "\n") + o.error;
  tracking::RunStatus status = result.killed   ? tracking::RunStatus::kKilled
                               : result.failed ? tracking::RunStatus::kFailed
                                               : tracking::RunStatus::kFinished;
  store.finish_run(run_id, status, result.killed && error.empty() ? "interrupted" : error);
  print_summary(out, store, run_id, plan, result, now_s() - t0);
  if (!error.empty()) err << "error: " << error << "\n";
  int code = result.killed ? 130 : result.failed ? 1 : 0;
  return {code, run_id};
}

}  // namespace flowlab::cli
