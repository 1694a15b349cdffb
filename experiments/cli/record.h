#pragma once
// What the runner writes about a run before it executes: the run row (spec, composed YAML,
// overrides, git commit, host, pid) and its params.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "experiments/cli/child.h"

namespace flowlab::cli {

/// `git rev-parse HEAD` in the spec's directory ("" outside a repository).
std::string git_commit_of(const std::filesystem::path& spec);

struct CommandResult {
  int exit_code = 0;   // 127: not found; -1: could not start
  std::string output;  // stdout (and stderr with capture_stderr)
};
/// Runs `argv` without a shell (PATH lookup) and waits for it.
CommandResult run_command(const std::vector<std::string>& argv, bool capture_stderr);
std::string host_name();

/// The params recorded for a run: seed, threads, device, config-group choices, the spec's
/// top-level scalars and every node's op and resolved params ("train.lr").
std::map<std::string, std::string> run_params(const Plan& plan, const ComposedSpec& spec);

std::string overrides_json(const std::vector<std::string>& overrides);

/// Records `c` as a RUNNING run (a sweep child when `parent` is set); sets and returns c.run_id.
int64_t record_child(tracking::Store& store, const RunOptions& options, Child& c,
                     std::optional<int64_t> parent, const std::string& name,
                     const std::string& git_commit);

/// The fields every recorded run shares (host, pid, version, git commit, spec file).
tracking::RunStart run_start(const RunOptions& options, const std::string& git_commit);

}  // namespace flowlab::cli
