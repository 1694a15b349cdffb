#pragma once
// `--launcher slurm`: a sweep's merged graph as Slurm jobs, in the manner of Hydra's submitit
// launcher. Slurm schedules, the results store (which every job reaches: a PostgreSQL server, or a
// SQLite file on a shared filesystem) carries the specs and the results, flowlab plans:
//
//   shared     one job that computes the nodes several children share (the dataset), once, into
//              the cache every job sees (the workspace's cache/);
//   child      one job array, a task per child, after the shared job succeeded
//              (--dependency=afterok, --kill-on-invalid-dep=yes): each task is a fresh flowlab
//              process that reads its child's composed spec from the store and runs it (the
//              shared nodes are cache hits);
//   aggregate  one job after the whole array (afterany: it sees failed and killed children): it
//              records each child whose task Slurm ended (time limit, preemption, node failure,
//              scancel) as KILLED with Slurm's state and reason, runs the sweep's aggregates when
//              every child finished, and records the parent's end.
//
// The scripts are written to WORKSPACE/slurm/sweep-<parent>/ and submitted with sbatch; each job
// runs `flowlab-engine slurm-task ...`. Children are SCHEDULED until their task starts.
#include <atomic>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "experiments/cli/child.h"
#include "experiments/cli/runner.h"
#include "graph/op.h"
#include "tracking/store.h"

namespace flowlab::cli {

/// `launcher: {name: slurm, ...}` (a spec's block or configs/launcher/slurm.yaml), the keys of
/// Hydra's submitit launcher that Slurm itself understands.
struct SlurmSettings {
  std::string partition;           // --partition; "" = the cluster's default
  std::string time;                // --time, Slurm's syntax ("30", "1:00:00", "1-0"); "" = default
  int cpus_per_task = 0;           // --cpus-per-task; 0 = default. Also each task's thread budget
  std::string mem;                 // --mem ("4G"); "" = default
  int array_parallelism = 0;       // at most this many array tasks at once (--array=...%N); 0 = all
  std::vector<std::string> extra;  // further sbatch options, verbatim ("--qos=short")
};

/// The launcher a sweep uses: --launcher when given, else its spec's `launcher:` (a name, or a
/// block with `name:`), else "local". Throws ConfigError for another name.
std::string launcher_of(const std::string& flag, const ComposedSpec& spec);

/// The settings from a spec's `launcher:` block (defaults where it has none, or names another
/// launcher). Throws ConfigError naming the key for an unknown key or a malformed value.
SlurmSettings slurm_settings(const ComposedSpec& spec);
YAML::Node to_yaml(const SlurmSettings& settings);
SlurmSettings slurm_settings_from_record(const YAML::Node& recorded);

/// The sbatch script of one stage ("shared", "child" or "aggregate") of sweep `parent`.
/// `array`: the child indexes (0-based) the array runs.
std::string sbatch_script(const std::string& stage, int64_t parent, const std::string& sweep_name,
                          const std::vector<size_t>& array, const SlurmSettings& settings,
                          const RunOptions& options);

/// Submits recorded sweep `parent`: marks the runs in `indexes` (children, by position) and the
/// parent SCHEDULED, writes the scripts and submits them; with `shared_nodes`, first a job that
/// computes those nodes of child 0's plan. Prints the job ids; returns the RunOutcome of the
/// submission (0: submitted). Throws RunError when sbatch fails.
RunOutcome submit_sweep(tracking::Store& store, int64_t parent, const std::string& sweep_name,
                        const std::vector<size_t>& indexes, bool shared_nodes,
                        const SlurmSettings& settings, const RunOptions& options, std::ostream& out,
                        std::ostream& err);

/// The nodes of children[0]'s plan that at least two children share (by cache key), with every
/// node they read: what the shared job computes. Empty when nothing is shared.
Plan shared_plan(const std::vector<Child>& children);

/// `flowlab-engine slurm-task --sweep P --stage S [--index I]`: one stage, inside its job.
/// Returns the exit code (0 ok, 1 failed, 130 killed).
int run_slurm_task(int64_t parent, const std::string& stage, int64_t index,
                   const RunOptions& options, const Registry& registry, std::ostream& out,
                   std::ostream& err, const std::atomic<bool>& stop);

/// `flowlab resume SWEEP --launcher slurm`: resubmits the children that did not finish (from
/// their checkpoints) and the aggregate job.
RunOutcome resume_on_slurm(int64_t parent, const RunOptions& options, const Registry& registry,
                           std::ostream& out, std::ostream& err);

}  // namespace flowlab::cli
