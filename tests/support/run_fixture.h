#pragma once
// Runs specs end to end through the same code path as `flowlab run`, in a throwaway workspace.
#include <atomic>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/cli/runner.h"
#include "graph/op.h"
#include "tests/support/temp_dir.h"

namespace flowlab::testing {

std::filesystem::path source_dir();  // the repository root (FLOWLAB_SOURCE_DIR)

struct RunResult {
  cli::RunOutcome outcome;
  std::string out, err;
  double seconds = 0;
};

class RunFixture {
 public:
  RunFixture();
  /// Runs tests/data/specs/<spec> (or an absolute path) with overrides in this fixture's workspace.
  RunResult run(const std::string& spec, const std::vector<std::string>& overrides = {},
                bool no_cache = false, int threads = 0);
  /// `flowlab sweep` on the same terms (spec as for run()).
  struct SweepFlags {
    int jobs = 0;
    bool dry_run = false;
  };
  RunResult sweep(const std::string& spec, const std::vector<std::string>& overrides,
                  SweepFlags flags);
  std::filesystem::path workspace() const { return dir_.path() / "ws"; }
  std::filesystem::path db() const { return workspace() / "runs.db"; }
  /// The final metrics node `node` of run `run` recorded in this workspace, by key.
  std::map<std::string, double> final_metrics(int64_t run, const std::string& node) const;
  const Registry& registry() const { return registry_; }
  /// For tests that register a throwaway op or architecture before running.
  Registry& registry() { return registry_; }

 private:
  cli::RunOptions options(const std::string& spec, const std::vector<std::string>& overrides) const;
  TempDir dir_;
  Registry registry_;
  std::atomic<bool> stop_{false};
};

}  // namespace flowlab::testing
