#pragma once
// Workspace housekeeping: `flowlab cache du|gc`, `flowlab delete|restore` and `flowlab tag`. The
// logic lives here, apart from the CLI11 wiring, so that unit_core tests it without LibTorch.
//
// Which cache entries gc keeps: those a run that is still RUNNING references (its process alive:
// not STALE), whatever else is said; those a FINISHED run references; those the newest run (and,
// for a sweep, its children) references, so the last thing you did stays fast to redo or resume;
// and every key a running executor has pinned (graph/cache_admin.h: entries it looked up but has
// not yet recorded). Everything else goes: entries no run references (their runs were purged, or
// were never recorded), and entries only FAILED, KILLED or STALE runs or deleted runs reference.
// --older-than keeps, in addition, everything used (written, or recorded by a run) more recently.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "experiments/cli/table.h"
#include "graph/cache_admin.h"

namespace flowlab::cli {

/// "30d", "12h", "90m", "45s", "2w", combinations such as "1d12h", or a plain number of seconds.
/// Throws ConfigError (key `option`) for anything else.
double parse_duration(const std::string& text, const std::string& option = "--older-than");

/// 1234567 -> "1.2 MB" (decimal units, as du -h --si).
std::string human_size(int64_t bytes);

struct GcOptions {
  std::optional<double> older_than_s;  // only entries last used at least this long ago
  int keep_last = 1;                   // the newest top-level runs (with their children) kept
  bool dry_run = false;
};

struct GcCandidate {
  CacheEntryInfo entry;
  double last_used = 0;  // the later of its writing and the last node a run recorded with it
  std::string reason;    // "no run references it", "only run 12 (FAILED) ..."
};

struct GcResult {
  std::vector<GcCandidate> removed;          // or that would be removed (dry run)
  std::vector<StagingInfo> staging_removed;  // leftovers of dead processes
  int64_t removed_bytes = 0, staging_bytes = 0;
  int64_t kept_entries = 0, kept_bytes = 0;
  int stale_pins = 0;  // pins of processes that are gone (removed unless dry run)
};

/// Decides what gc removes and, unless options.dry_run, removes it, holding the cache's lock
/// (CacheGcLock) from before it reads pins and runs until the last removal. Throws ConfigError
/// when there is no results database.
GcResult collect_garbage(const std::filesystem::path& workspace, const GcOptions& options);

/// `flowlab cache gc`: collect_garbage and its report. A dry run lists every entry that would go
/// (table, csv or json); a real one lists them only with `list`, else totals by op.
void cache_gc(const std::filesystem::path& workspace, const GcOptions& options, bool list,
              Format format, std::ostream& out);

/// `flowlab cache du`: entries and bytes by op and by age of last use, with what a default gc
/// would free. In csv/json one table: group (op | age | staging | total), name, entries, bytes,
/// reclaimable_bytes.
Table cache_du_table(const std::filesystem::path& workspace);
void cache_du(const std::filesystem::path& workspace, Format format, std::ostream& out);

/// `flowlab delete RUN...`: soft delete (restorable) of each run and every run below it (a sweep's
/// children), or with `purge` removal of their rows and of the cache entries (and checkpoints)
/// that no remaining run references. A run still running (not STALE) is refused. Throws
/// ConfigError for a bad RUN (nothing is changed then).
void delete_runs(const std::filesystem::path& workspace, const std::vector<std::string>& runs,
                 bool purge, std::ostream& out);
/// `flowlab restore RUN...`: undoes a soft delete, children included.
void restore_runs(const std::filesystem::path& workspace, const std::vector<std::string>& runs,
                  std::ostream& out);

/// `flowlab tag RUN key=value... [--note TEXT] [--delete KEY]...`: sets and removes tags of one
/// run (the note is the tag `note`), then prints the run's tags.
void tag_run(const std::filesystem::path& workspace, const std::string& run,
             const std::vector<std::string>& assignments, const std::optional<std::string>& note,
             const std::vector<std::string>& deletions, Format format, std::ostream& out);

/// Help texts (footers of the commands).
extern const char* const kCacheGcHelp;
extern const char* const kDeleteHelp;
extern const char* const kTagHelp;

}  // namespace flowlab::cli
