#pragma once
// The read-only commands: `runs`, `show`, `ops`.
#include <filesystem>
#include <ostream>
#include <string>

#include "experiments/cli/table.h"
#include "graph/op.h"

namespace flowlab::cli {

/// --workspace, else $FLOWLAB_HOME, else ./.flowlab.
std::filesystem::path resolve_workspace(const std::string& flag);

void list_runs(const std::filesystem::path& workspace, int limit, Format format, std::ostream& out);
/// RUN is a run id or "last". Throws ConfigError for an unknown run.
void show_run(const std::filesystem::path& workspace, const std::string& run, Format format,
              std::ostream& out);
/// All ops (name and summary), or one op's params, inputs and output.
void show_ops(const Registry& registry, const std::string& name, Format format, std::ostream& out);

}  // namespace flowlab::cli
