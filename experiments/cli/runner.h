#pragma once
// Running specs: `flowlab run` (one run), `flowlab sweep` (a parent run with one child per point,
// all executed as ONE flow graph so nodes with equal cache keys are computed once) and
// `flowlab resume` (finish killed work: cached nodes are reused, trainers restart from their
// last checkpoint, finished children of a sweep are left alone).
#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "graph/op.h"
#include "tracking/connection.h"

namespace flowlab::cli {

struct RunOptions {
  std::filesystem::path spec;
  std::vector<std::string>
      overrides;  // for sweeps: may hold sweep axes (a=1,2  range(..)  glob(..))
  std::filesystem::path workspace;
  /// The results store; unset: results_store(workspace) ($FLOWLAB_STORE, else runs.db there).
  std::optional<tracking::StoreLocation> store;
  std::filesystem::path config_dir;  // empty: search upward from the spec
  bool print_config = false;         // run --cfg: print the composed spec and stop
  bool dry_run = false;              // sweep --dry-run: list the children and stop
  bool no_cache = false;
  int threads = 0;     // 0 = the spec's `threads` (auto = cores)
  int jobs = 0;        // most nodes at once; 0 = chosen from the thread budget
  bool quiet = false;  // no progress lines
  /// --launcher: "local", "slurm" or "" (the spec's `launcher:`, else local). sweep and resume.
  std::string launcher;
};

struct RunOutcome {
  int exit_code = 0;   // 0 finished, 1 failed, 130 interrupted
  int64_t run_id = 0;  // the run (or the sweep's parent run); 0 when nothing was recorded
};

/// Validation errors throw ConfigError before the database is touched, so a bad spec never leaves
/// a run behind. Node failures are recorded (run FAILED) and reported through the exit code.
RunOutcome run_spec(const RunOptions& options, const Registry& registry, std::ostream& out,
                    std::ostream& err, const std::atomic<bool>& stop);

/// Expands the sweep (command line + the spec's `sweep:` block), validates every child, then runs
/// them all; a failing child does not stop the others.
RunOutcome run_sweep(const RunOptions& options, const Registry& registry, std::ostream& out,
                     std::ostream& err, const std::atomic<bool>& stop);

/// Resumes run `run_id` (a single run, or a sweep's parent) from the recorded composed specs.
/// Uses options.workspace, threads, jobs and quiet.
RunOutcome resume_run(int64_t run_id, const RunOptions& options, const Registry& registry,
                      std::ostream& out, std::ostream& err, const std::atomic<bool>& stop);

/// Where options' runs are recorded.
tracking::StoreLocation store_of(const RunOptions& options);

/// Hex SHA-256 of a file's bytes (common/sha256.h).
using ::flowlab::sha256_file;

}  // namespace flowlab::cli
