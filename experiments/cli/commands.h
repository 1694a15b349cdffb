#pragma once
// The read-only commands: `runs`, `show`, `ops`.
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "experiments/cli/table.h"
#include "graph/op.h"
#include "tracking/store.h"

namespace flowlab::cli {

/// --workspace, else $FLOWLAB_HOME, else PROJECT/.flowlab: `project_root` when given (run and
/// sweep: the spec's project, graph/compose.h's find_project_root, or --config-dir's parent), else
/// the project found from the current directory, else ./.flowlab outside any project.
std::filesystem::path resolve_workspace(const std::string& flag,
                                        const std::filesystem::path& project_root);

/// The results store: $FLOWLAB_STORE when set (--store sets it, so that the engine and the jobs a
/// launcher starts inherit it), else WORKSPACE/runs.db. Throws StoreError for a malformed URI.
tracking::StoreLocation results_store(const std::filesystem::path& workspace);
/// The same for commands that only read: throws ConfigError when a SQLite store has no file yet.
tracking::StoreLocation existing_results_store(const std::filesystem::path& workspace);

/// Whether a RUNNING run's process is still there: on this host, its pid exists; elsewhere, its
/// heartbeat is less than a minute old. A RUNNING run whose process died shows as STALE.
bool run_process_alive(const tracking::RunRow& run);
std::string display_status(const tracking::RunRow& run);

/// The id of RUN, a run id, a run's uuid or "last" (the newest run, or after a sweep the sweep's
/// parent: the top-level run the last command made). Throws ConfigError (key "RUN")
/// for anything else and for a run that does not exist.
int64_t resolve_run(const tracking::Store& store, const std::string& run);

/// What `flowlab runs` lists: top-level runs (sweeps folded, with their runs counted by status)
/// unless `all` or `parent`; newest first, at most `limit`.
struct RunListing {
  int limit = 20;
  tracking::RunView view = tracking::RunView::kActiveOnly;
  std::optional<int64_t> parent;  // a sweep's runs
  std::string status;             // RUNNING, FINISHED, FAILED, KILLED, SCHEDULED or STALE
  std::string experiment;
  bool all = false;  // sweeps' runs too, unfolded
};
void list_runs(const std::filesystem::path& workspace, const RunListing& listing, Format format,
               std::ostream& out);
/// The newest `limit` runs of `view`, every run (children too) (deleted runs are hidden unless the
/// view asks for them; any view but the default adds a `deleted` column with the time of deletion).
void list_runs(const std::filesystem::path& workspace, int limit, Format format, std::ostream& out,
               tracking::RunView view = tracking::RunView::kActiveOnly);
/// RUN is a run id or "last". Throws ConfigError for an unknown run. A deleted run is shown too,
/// marked as such; its tags (and note) are listed.
void show_run(const std::filesystem::path& workspace, const std::string& run, Format format,
              std::ostream& out, bool by_node = false);
/// All ops (name and summary), or one op's params, inputs and output.
void show_ops(const Registry& registry, const std::string& name, Format format, std::ostream& out);

/// `flowlab models [FAMILY | FAMILY/NAME | NAME]`: the registered architectures, or one's params.
void show_models(const Registry& registry, const std::string& name, Format format,
                 std::ostream& out);

}  // namespace flowlab::cli
