#include "experiments/cli/slurm_launcher.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/aggregates.h"
#include "experiments/cli/execution.h"
#include "experiments/cli/record.h"
#include "graph/merge.h"

namespace flowlab::cli {
namespace fs = std::filesystem;
using tracking::RunStatus;

namespace {

const char* const kLauncherKeys[] = {"name", "partition",         "time", "cpus_per_task",
                                     "mem",  "array_parallelism", "extra"};

// A word for a shell script, in single quotes.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// "0-8" / "0,3,5" for sbatch --array.
std::string array_spec(const std::vector<size_t>& indexes) {
  bool contiguous = true;
  for (size_t i = 1; i < indexes.size(); ++i) contiguous &= indexes[i] == indexes[i - 1] + 1;
  if (contiguous && indexes.size() > 1)
    return fmt::format("{}-{}", indexes.front(), indexes.back());
  std::vector<std::string> parts;
  for (size_t i : indexes) parts.push_back(std::to_string(i));
  return join(parts, ",");
}

// The program a job runs: this one (flowlab-engine, which every stage needs).
std::string self_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("flowlab-engine") : self.string();
}

fs::path sweep_dir(const RunOptions& options, int64_t parent) {
  return fs::absolute(options.workspace) / "slurm" / fmt::format("sweep-{}", parent);
}

// Slurm's word on job `id` ("123_4"): "TIMEOUT (TimeLimit)", "CANCELLED (None)", ...
std::string slurm_job_state(const std::string& id) {
  const auto [rc, out] = run_command({"scontrol", "-o", "show", "job", id}, true);
  // Without accounting (slurmdbd) Slurm keeps no record of an array task cancelled before it
  // started, nor of any job once MinJobAge has passed.
  if (rc != 0)
    return "no record left (cancelled before it started, or purged after MinJobAge): " + trim(out);
  auto field = [&](const std::string& key) {
    const size_t at = out.find(" " + key + "=");
    if (at == std::string::npos) return std::string();
    const size_t begin = at + key.size() + 2;
    return out.substr(begin, out.find(' ', begin) - begin);
  };
  const std::string reason = field("Reason");
  return field("JobState") + (reason.empty() || reason == "None" ? "" : " (" + reason + ")");
}

}  // namespace

std::string launcher_of(const std::string& flag, const ComposedSpec& spec) {
  std::string name = flag;
  std::string key = "--launcher";
  const YAML::Node block = spec.root["launcher"];
  if (name.empty() && block.IsDefined() && !block.IsNull()) {
    key = "launcher";
    if (block.IsScalar()) {
      name = block.Scalar();
    } else if (block.IsMap() && block["name"].IsDefined()) {
      key = "launcher.name";
      name = block["name"].Scalar();
    } else {
      throw ConfigError(spec.where("launcher"), "launcher",
                        "expected a launcher name or a mapping with name: (local or slurm)");
    }
  }
  if (name.empty()) return "local";
  if (name != "local" && name != "slurm")
    throw ConfigError(key == "--launcher" ? SourceLocation{"command line"} : spec.where(key), key,
                      fmt::format("expected local or slurm, got \"{}\"", name),
                      did_you_mean(name, {"local", "slurm"}));
  return name;
}

SlurmSettings slurm_settings(const ComposedSpec& spec) {
  SlurmSettings s;
  const YAML::Node block = spec.root["launcher"];
  if (!block.IsDefined() || !block.IsMap()) return s;
  if (block["name"].IsDefined() && block["name"].Scalar() != "slurm") return s;
  auto fail = [&](const std::string& key, const std::string& message) {
    throw ConfigError(spec.where("launcher." + key), "launcher." + key, message);
  };
  for (const auto& kv : block) {
    const std::string key = kv.first.Scalar();
    if (std::find(std::begin(kLauncherKeys), std::end(kLauncherKeys), key) ==
        std::end(kLauncherKeys))
      fail(key, fmt::format("unknown launcher key (expected one of: {})",
                            join(std::vector<std::string>(std::begin(kLauncherKeys),
                                                          std::end(kLauncherKeys)),
                                 ", ")));
    const YAML::Node& v = kv.second;
    auto count = [&]() {
      const auto n = v.IsScalar() ? parse_int64(v.Scalar()) : std::nullopt;
      if (!n || *n < 0 || *n > 100000) fail(key, "expected a whole number >= 0");
      return static_cast<int>(*n);
    };
    if (key == "partition" || key == "time" || key == "mem") {
      if (!v.IsScalar()) fail(key, "expected a text");
      (key == "partition" ? s.partition : key == "time" ? s.time : s.mem) = v.Scalar();
    } else if (key == "cpus_per_task") {
      s.cpus_per_task = count();
    } else if (key == "array_parallelism") {
      s.array_parallelism = count();
    } else if (key == "extra") {
      if (!v.IsSequence()) fail(key, "expected a list of sbatch options ([--qos=short])");
      for (const auto& e : v) {
        if (!e.IsScalar() || e.Scalar().rfind("--", 0) != 0)
          fail(key, "each entry is one sbatch option starting with -- (--qos=short)");
        s.extra.push_back(e.Scalar());
      }
    }
  }
  return s;
}

YAML::Node to_yaml(const SlurmSettings& s) {
  YAML::Node n;
  n["name"] = "slurm";
  if (!s.partition.empty()) n["partition"] = s.partition;
  if (!s.time.empty()) n["time"] = s.time;
  if (s.cpus_per_task) n["cpus_per_task"] = s.cpus_per_task;
  if (!s.mem.empty()) n["mem"] = s.mem;
  if (s.array_parallelism) n["array_parallelism"] = s.array_parallelism;
  for (const auto& e : s.extra) n["extra"].push_back(e);
  return n;
}

SlurmSettings slurm_settings_from_record(const YAML::Node& recorded) {
  ComposedSpec spec;
  spec.root["launcher"] = recorded;
  return slurm_settings(spec);
}

std::string sbatch_script(const std::string& stage, int64_t parent, const std::string& sweep_name,
                          const std::vector<size_t>& array, const SlurmSettings& s,
                          const RunOptions& options) {
  const fs::path dir = sweep_dir(options, parent);
  std::string out = "#!/bin/bash\n";
  out += fmt::format(
      "# flowlab sweep {} ({}): the {} stage. Written by flowlab; submitted with "
      "sbatch.\n",
      parent, sweep_name, stage);
  out += fmt::format("#SBATCH --job-name=flowlab-{}-{}\n", parent, stage);
  out += fmt::format("#SBATCH --output={}/{}-%A{}.out\n", dir.string(), stage,
                     stage == "child" ? "_%a" : "");
  if (!s.partition.empty()) out += "#SBATCH --partition=" + s.partition + "\n";
  if (!s.time.empty()) out += "#SBATCH --time=" + s.time + "\n";
  if (s.cpus_per_task) out += fmt::format("#SBATCH --cpus-per-task={}\n", s.cpus_per_task);
  if (!s.mem.empty()) out += "#SBATCH --mem=" + s.mem + "\n";
  for (const auto& e : s.extra) out += "#SBATCH " + e + "\n";
  if (stage == "child") {
    out += "#SBATCH --array=" + array_spec(array);
    if (s.array_parallelism) out += fmt::format("%{}", s.array_parallelism);
    out += "\n";
  }
  // SIGTERM to the batch shell (B:, which `exec` makes flowlab itself) 60 s before the time
  // limit, as scancel sends it too: flowlab stops at the next step, records the run KILLED and
  // keeps its checkpoint; KillWait seconds after a cancellation Slurm sends SIGKILL.
  out += "#SBATCH --signal=B:TERM@60\n";
  out += "set -eu\n";
  out += "export FLOWLAB_STORE=" +
         shell_quote(store_of(options).is_sqlite()
                         ? fs::absolute(store_of(options).sqlite_path).string()
                         : store_of(options).postgres_uri) +
         "\n";
  std::string command = fmt::format(
      "exec {} --workspace {} slurm-task --sweep {} --stage {}", shell_quote(self_path()),
      shell_quote(fs::absolute(options.workspace).string()), parent, stage);
  if (stage == "child") command += " --index \"$SLURM_ARRAY_TASK_ID\"";
  if (options.quiet) command += " -q";
  return out + command + "\n";
}

Plan shared_plan(const std::vector<Child>& children) {
  Plan shared;
  if (children.size() < 2) return shared;
  std::vector<const Plan*> plans;
  for (const auto& c : children) plans.push_back(&c.plan);
  const MergedPlan merged = merge_plans(plans);
  const Plan& first = children.front().plan;
  shared.experiment = first.experiment;
  shared.seed = first.seed;
  shared.threads = first.threads;
  shared.device = first.device;
  // A node shared by several children reads only nodes they share too (equal keys have equal
  // inputs), so the kept set is closed under inputs and keeps its topological order.
  std::map<size_t, size_t> index;  // child 0's node -> shared plan's node
  for (size_t i = 0; i < first.nodes.size(); ++i) {
    if (merged.owners[merged.merged_index[0][i]].size() < 2) continue;
    PlannedNode n = first.nodes[i];
    std::map<std::string, size_t> inputs;
    for (const auto& [port, from] : n.inputs) inputs[port] = index.at(from);
    n.inputs = std::move(inputs);
    n.consumers.clear();
    n.index = shared.nodes.size();
    index[i] = n.index;
    shared.nodes.push_back(std::move(n));
  }
  for (auto& n : shared.nodes)
    for (const auto& [port, from] : n.inputs) shared.nodes[from].consumers.push_back(n.index);
  return shared;
}

RunOutcome submit_sweep(tracking::Store& store, int64_t parent, const std::string& sweep_name,
                        const std::vector<size_t>& indexes, bool shared_nodes,
                        const SlurmSettings& settings, const RunOptions& options, std::ostream& out,
                        std::ostream& err) {
  const auto children = store.children(parent);
  std::vector<int64_t> scheduled = {parent};
  for (size_t i : indexes) scheduled.push_back(children.at(i).id);
  const fs::path dir = sweep_dir(options, parent);
  fs::create_directories(dir);
  auto write = [&](const std::string& stage) {
    const fs::path file = dir / (stage + ".sbatch");
    std::ofstream(file) << sbatch_script(stage, parent, sweep_name, indexes, settings, options);
    return file;
  };
  auto sbatch = [&](const fs::path& script, const std::string& dependency) {
    std::vector<std::string> argv = {"sbatch", "--parsable"};
    if (!dependency.empty()) {
      argv.push_back("--dependency=" + dependency);
      argv.push_back("--kill-on-invalid-dep=yes");
    }
    argv.push_back(script.string());
    const auto [rc, text] = run_command(argv, true);
    const std::string id = trim(text).substr(0, trim(text).find(';'));
    if (rc != 0 || id.empty() || !parse_int64(id))
      throw RunError(
          fmt::format("sbatch {} failed (exit {}): {}", script.string(), rc, trim(text)));
    return id;
  };
  // SCHEDULED before anything is submitted: a task that starts at once finds its run waiting.
  store.schedule_runs(scheduled);
  std::string shared_job, array_job, aggregate_job;
  try {
    if (shared_nodes) shared_job = sbatch(write("shared"), "");
    if (!indexes.empty())
      array_job = sbatch(write("child"), shared_job.empty() ? "" : "afterok:" + shared_job);
    aggregate_job = sbatch(write("aggregate"), array_job.empty() ? "" : "afterany:" + array_job);
  } catch (const RunError& e) {
    for (const auto& id : {shared_job, array_job})
      if (!id.empty()) run_command({"scancel", id}, true);
    store.finish_run(parent, RunStatus::kFailed, e.what());
    for (size_t k = 1; k < scheduled.size(); ++k)
      store.finish_run(scheduled[k], RunStatus::kKilled, "not submitted: " + std::string(e.what()));
    throw;
  }
  std::map<std::string, std::string> tags = {{"slurm.aggregate_job", aggregate_job}};
  if (!array_job.empty()) tags["slurm.array_job"] = array_job;
  if (!shared_job.empty()) tags["slurm.shared_job"] = shared_job;
  store.set_tags(parent, tags);
  for (size_t i : indexes)
    store.set_tag(children.at(i).id, "slurm.job_id", fmt::format("{}_{}", array_job, i));
  err << fmt::format(
      "sweep {}: {} children submitted to Slurm as array job {}{}; aggregate job {} "
      "(scripts and logs in {})\n",
      parent, indexes.size(), array_job,
      shared_job.empty() ? "" : " after shared job " + shared_job, aggregate_job, dir.string());
  out << fmt::format("submitted sweep {}: jobs {}{} {}\n", parent,
                     shared_job.empty() ? "" : shared_job + " ", array_job, aggregate_job);
  out << fmt::format("follow it with: flowlab runs   (or squeue; then flowlab show {})\n", parent);
  return {0, parent};
}

namespace {

int shared_stage(int64_t parent, const RunOptions& options, const Registry& registry,
                 tracking::Store& store, std::ostream& err, const std::atomic<bool>& stop) {
  std::vector<Child> children;
  for (const auto& r : store.children(parent)) children.push_back(child_from_record(r, registry));
  const Plan shared = shared_plan(children);
  if (shared.nodes.empty()) return 0;
  store.claim_run(parent, host_name(), getpid(), /*start_clock=*/false);
  // Recorded on the parent (the node executions of what the children share); the parent ends
  // with the aggregate job.
  const GraphRun run = run_graph({&shared}, {parent}, options, registry, store, {parent}, err, stop,
                                 /*finish_runs=*/false);
  if (run.status[0] == RunStatus::kFinished) return 0;
  err << "error: " << run.errors[0] << "\n";
  return run.status[0] == RunStatus::kKilled ? 130 : 1;
}

int child_stage(int64_t parent, int64_t index, const RunOptions& options, const Registry& registry,
                tracking::Store& store, std::ostream& out, std::ostream& err,
                const std::atomic<bool>& stop) {
  const auto recorded = store.children(parent);
  if (index < 0 || index >= static_cast<int64_t>(recorded.size()))
    throw ConfigError(SourceLocation{"command line"}, "--index",
                      fmt::format("sweep {} has {} children (0..{})", parent, recorded.size(),
                                  recorded.size() - 1));
  const tracking::RunRow& row = recorded[static_cast<size_t>(index)];
  if (row.status == RunStatus::kFinished) {
    out << fmt::format("run {} already FINISHED\n", row.id);
    return 0;
  }
  std::vector<Child> children = {child_from_record(row, registry)};
  store.claim_run(row.id, host_name(), getpid());
  // What a killed attempt logged is replaced (its checkpoints are what carries over).
  store.restart_run(row.id, getpid());
  const char* job = std::getenv("SLURM_ARRAY_JOB_ID");
  const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
  if (job && task) store.set_tag(row.id, "slurm.job_id", fmt::format("{}_{}", job, task));
  RunOptions opts = options;
  opts.spec = row.spec_file;
  if (const char* cpus = std::getenv("SLURM_CPUS_PER_TASK"); cpus && opts.threads == 0)
    opts.threads = static_cast<int>(parse_int64(cpus).value_or(0));
  BatchResult result = execute_children(children, opts, registry, store, {}, err, stop);
  if (!result.errors[0].empty()) err << "error: " << result.errors[0] << "\n";
  return exit_code_of(result.status);
}

int aggregate_stage(int64_t parent, const RunOptions& options, const Registry& registry,
                    tracking::Store& store, std::ostream& out, std::ostream& err,
                    const std::atomic<bool>& stop) {
  auto parent_run = store.get_run(parent);
  if (!parent_run) throw RunError(fmt::format("no sweep {} in the store", parent));
  store.claim_run(parent, host_name(), getpid(), /*start_clock=*/false);
  // A child whose task never ran, or was ended by Slurm, gets Slurm's account of it.
  for (const auto& c : store.children(parent)) {
    if (c.status == RunStatus::kFinished || c.status == RunStatus::kFailed) continue;
    const auto tags = store.tags(c.id);
    const auto job = tags.find("slurm.job_id");
    const std::string state =
        job == tags.end() ? "no Slurm job recorded" : "slurm: " + slurm_job_state(job->second);
    const std::string error =
        c.status == RunStatus::kKilled && !c.error.empty() ? state + "; " + c.error : state;
    store.finish_run(c.id, RunStatus::kKilled, error);
    err << fmt::format("run {} (task {}): KILLED, {}\n", c.id,
                       job == tags.end() ? "?" : job->second, state);
  }
  std::string aggregate_errors;
  if (sweep_status(store, parent) == RunStatus::kFinished)
    aggregate_errors = rerun_recorded_aggregates(*parent_run, options, registry, store, err, stop);
  finish_sweep(store, parent, aggregate_errors, stop.load());
  const auto done = store.get_run(parent);
  out << fmt::format("sweep {}: {}{}\n", parent, to_string(done->status),
                     done->error.empty() ? "" : " (" + done->error + ")");
  if (!aggregate_errors.empty()) return 1;
  return done->status == RunStatus::kFinished ? 0 : done->status == RunStatus::kKilled ? 130 : 1;
}

}  // namespace

int run_slurm_task(int64_t parent, const std::string& stage, int64_t index,
                   const RunOptions& options, const Registry& registry, std::ostream& out,
                   std::ostream& err, const std::atomic<bool>& stop) {
  tracking::Store store(store_of(options));
  if (stage == "shared") return shared_stage(parent, options, registry, store, err, stop);
  if (stage == "child") return child_stage(parent, index, options, registry, store, out, err, stop);
  if (stage == "aggregate")
    return aggregate_stage(parent, options, registry, store, out, err, stop);
  throw ConfigError(SourceLocation{"command line"}, "--stage",
                    fmt::format("expected shared, child or aggregate, got \"{}\"", stage));
}

RunOutcome resume_on_slurm(int64_t parent, const RunOptions& options, const Registry& registry,
                           std::ostream& out, std::ostream& err) {
  tracking::Store store(store_of(options));
  const auto run = store.get_run(parent);
  if (!run)
    throw ConfigError(SourceLocation{"command line"}, "RUN",
                      fmt::format("no run with id {}", parent));
  const auto children = store.children(parent);
  if (children.empty())
    throw ConfigError(
        SourceLocation{"command line"}, "RUN",
        fmt::format("run {} is not a sweep; --launcher slurm resumes sweeps", parent));
  std::vector<size_t> todo;
  for (size_t i = 0; i < children.size(); ++i) {
    const auto& c = children[i];
    if (c.status == RunStatus::kRunning || c.status == RunStatus::kScheduled)
      throw ConfigError(
          SourceLocation{"command line"}, "RUN",
          fmt::format(
              "run {} of sweep {} is still {} (Slurm job {}); wait for the "
              "sweep's aggregate job, or scancel it",
              c.id, parent, to_string(c.status),
              store.tags(c.id).count("slurm.job_id") ? store.tags(c.id).at("slurm.job_id") : "?"));
    if (c.status != RunStatus::kFinished) todo.push_back(i);
    // Validate the recorded spec now, not in a job an hour from now.
    child_from_record(c, registry);
  }
  const YAML::Node summary = YAML::Load(run->composed_yaml);
  const SlurmSettings settings = slurm_settings_from_record(summary["launcher"]);
  if (todo.empty())
    err << fmt::format("sweep {}: all {} children FINISHED; submitting its aggregates\n", parent,
                       children.size());
  else
    err << fmt::format("resuming sweep {} on Slurm: {} of {} children to finish\n", parent,
                       todo.size(), children.size());
  // The shared nodes are in the cache already (a child recomputes one gc removed).
  return submit_sweep(store, parent, run->name, todo, /*shared_nodes=*/false, settings, options,
                      out, err);
}

}  // namespace flowlab::cli
