#pragma once
// `flowlab run`: compose → validate → plan → execute on the flow graph → record in SQLite.
#include <atomic>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "graph/op.h"

namespace flowlab::cli {

struct RunOptions {
  std::filesystem::path spec;
  std::vector<std::string> overrides;
  std::filesystem::path workspace;   // resolved by resolve_workspace()
  std::filesystem::path config_dir;  // empty: search upward from the spec
  bool print_config = false;         // --cfg: print the composed spec and stop
  bool no_cache = false;
  int threads = 0;                   // --threads; 0 = the spec's `threads` (auto = cores)
  bool quiet = false;                // no progress lines
};

struct RunOutcome {
  int exit_code = 0;      // 0 finished, 1 failed, 130 interrupted
  int64_t run_id = 0;     // 0 when nothing was recorded (--cfg)
};

/// Validation errors throw ConfigError before the database is touched, so a bad spec never leaves
/// a run behind. Node failures are recorded (run FAILED) and reported through the exit code.
RunOutcome run_spec(const RunOptions& options, const Registry& registry, std::ostream& out,
                    std::ostream& err, const std::atomic<bool>& stop);

/// Hex SHA-256 of a file's bytes.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace flowlab::cli
