// `flowlab cache du|gc`, `delete`, `restore`, `tag`: keeping a workspace tidy.
#include "experiments/cli/housekeeping.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/clock.h"
#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "tracking/store.h"

namespace flowlab::cli {
namespace fs = std::filesystem;
using tracking::RunRow;
using tracking::RunStatus;
using tracking::RunView;
using tracking::Store;

const char* const kCacheGcHelp = R"(
What gc keeps:
  - every entry a RUNNING run references (its process alive; a STALE run protects nothing)
  - every entry a FINISHED run references (deleted runs protect nothing)
  - every entry the newest run references, with its sweep's children (--keep-last N: the N
    newest top-level runs; 0: none)
  - every key a running flowlab process has pinned: an executor pins its plan's keys before it
    looks any up, so an entry a run is about to read is never removed under it
  - with --older-than, also every entry used more recently than that
What goes: entries no run references, and entries only FAILED, KILLED, STALE or deleted runs
reference; and staging directories left by processes that are gone (older than an hour).
Safe against concurrent runs: gc holds <cache>/lock while it decides and removes (a run starting
meanwhile waits for it), and an entry is renamed away before it is deleted, so a lookup sees it
whole or not at all.

Examples:
  flowlab cache du                            size by op and by age; what gc would free
  flowlab cache gc --dry-run                  list what would go, remove nothing
  flowlab cache gc --older-than 30d           remove only entries unused for 30 days
  flowlab cache gc --keep-last 0 --format csv)";

const char* const kDeleteHelp = R"(
A deleted run is hidden from `runs`, `query` and plots (see them with --view deleted_only or
--view all), keeps all its rows, and `flowlab restore RUN` brings it back; its cache entries are
no longer kept by `flowlab cache gc`. Deleting (or restoring) a sweep's parent run applies to
its children too. --purge removes the runs' rows for good (params, metrics, nodes, artifacts,
tags) and the cache entries and checkpoints no remaining run references; entries other runs
share stay. A run that is still running is refused (stop it first; once its process is gone it
shows as STALE and may be deleted).

Examples:
  flowlab delete 12 13          soft delete (sweep 12 with its children)
  flowlab runs --view deleted_only
  flowlab restore 12
  flowlab delete 12 --purge     rows and unshared cache entries, for good)";

const char* const kTagHelp = R"(
Tags are mutable key/value labels (MLflow's): `flowlab query "tags.owner = 'ana'"` finds them,
`flowlab show RUN` and `compare` list them. A spec can set them too, with a top-level map
(`tags: {owner: ana, purpose: baseline}`, or `+tags.owner=ana` on the command line); a sweep's
parent gets the tags all its children share.

Examples:
  flowlab tag 12 owner=ana purpose=baseline
  flowlab tag last --note "lr too high, diverged"     the note is the tag `note`
  flowlab tag 12 --delete purpose)";

namespace {

const SourceLocation kCommandLine{"command line"};

Store open_store(const fs::path& workspace, bool write) {
  const tracking::StoreLocation db = existing_results_store(workspace);
  return write ? Store(db) : Store(db, Store::Access::kReadOnly);
}

bool is_live(const RunRow& r) { return r.status == RunStatus::kRunning && run_process_alive(r); }

// The ids of `refs` (each a run id or "last"); a bad one throws ConfigError before anything is
// changed. `last` means the newest run of `view`.
std::vector<int64_t> resolve_runs(const Store& store, const std::vector<std::string>& refs,
                                  RunView view) {
  if (refs.empty()) throw ConfigError(kCommandLine, "RUN", "expected at least one run id");
  std::vector<int64_t> ids;
  for (const auto& ref : refs) {
    int64_t id = 0;
    if (ref == "last") {
      auto newest = store.list_runs(1, view);
      if (newest.empty())
        throw ConfigError(
            kCommandLine, "RUN",
            view == RunView::kDeletedOnly ? "there are no deleted runs" : "there are no runs yet");
      id = newest.front().id;
    } else {
      id = resolve_run(store, ref);
    }
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

// Every run, by id.
std::map<int64_t, RunRow> all_runs(const Store& store) {
  std::map<int64_t, RunRow> out;
  for (auto& r : store.list_runs(0, RunView::kAll)) out.emplace(r.id, std::move(r));
  return out;
}

// Whether a pin's process is alive: on this host its pid exists; on another (a workspace on a
// shared disk), a RUNNING run of that host and pid has a fresh heartbeat.
bool pin_alive(const PinInfo& pin, const std::map<int64_t, RunRow>& runs, const std::string& host) {
  if (pin.host == host) return local_process_alive(pin.pid);
  for (const auto& [id, r] : runs)
    if (r.host == pin.host && r.pid == pin.pid && is_live(r)) return true;
  return false;
}

std::string describe_refs(const std::vector<std::pair<int64_t, std::string>>& refs) {
  if (refs.empty()) return "no run references it";
  std::string out = refs.size() == 1 ? "only run " : "only runs ";
  for (size_t i = 0; i < refs.size() && i < 3; ++i)
    out += fmt::format("{}{} ({})", i ? ", " : "", refs[i].first, refs[i].second);
  if (refs.size() > 3) out += fmt::format(" and {} more", refs.size() - 3);
  return out;
}

// Everything gc needs to know, read under the lock (when there is one).
struct GcView {
  std::vector<CacheEntryInfo> entries;
  std::vector<PinInfo> live_pins, stale_pins;
  std::set<std::string> kept_keys;                                           // protected
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> refs;  // key -> (run, why)
  std::map<std::string, double> last_use;  // key -> last recorded use
};

GcView read_gc_view(const fs::path& workspace, const GcOptions& options) {
  GcView v;
  const fs::path cache = workspace / "cache";
  const Store store = open_store(workspace, false);
  const auto runs = all_runs(store);
  const std::string host = local_host_name();
  for (auto& pin : read_pins(cache))
    (pin_alive(pin, runs, host) ? v.live_pins : v.stale_pins).push_back(std::move(pin));
  for (const auto& pin : v.live_pins) v.kept_keys.insert(pin.keys.begin(), pin.keys.end());

  // The newest top-level runs that are not deleted, with everything below them.
  std::vector<int64_t> newest;
  if (options.keep_last > 0)
    for (const auto& r : store.list_runs(0, RunView::kActiveOnly)) {
      int64_t root = r.id;
      for (auto it = runs.find(root); it != runs.end() && it->second.parent_id;
           it = runs.find(root))
        root = *it->second.parent_id;
      if (std::find(newest.begin(), newest.end(), root) == newest.end()) newest.push_back(root);
      if (static_cast<int>(newest.size()) >= options.keep_last) break;
    }
  std::set<int64_t> newest_family;
  for (int64_t id : store.with_descendants(newest)) newest_family.insert(id);

  for (const auto& ref : store.cache_references()) {
    double& last = v.last_use[ref.cache_key];
    last = std::max(last, ref.last_used);
    auto it = runs.find(ref.run_id);
    if (it == runs.end()) continue;  // rows of a run deleted by hand
    const RunRow& r = it->second;
    const bool deleted = r.deleted_at.has_value();
    const bool keep = is_live(r) || (!deleted && r.status == RunStatus::kFinished) ||
                      (!deleted && newest_family.count(r.id));
    if (keep) {
      v.kept_keys.insert(ref.cache_key);
    } else {
      v.refs[ref.cache_key].emplace_back(r.id, deleted ? "deleted" : display_status(r));
    }
  }
  v.entries = scan_cache(cache);
  return v;
}

GcResult decide(const GcView& v, const GcOptions& options, double now, bool other_hosts_alive,
                const fs::path& cache) {
  GcResult result;
  for (const auto& e : v.entries) {
    double last_used = e.mtime;
    if (auto it = v.last_use.find(e.key); it != v.last_use.end())
      last_used = std::max(last_used, it->second);
    const bool recent = options.older_than_s && now - last_used < *options.older_than_s;
    if (v.kept_keys.count(e.key) || recent) {
      ++result.kept_entries;
      result.kept_bytes += e.bytes;
      continue;
    }
    auto refs = v.refs.find(e.key);
    result.removed.push_back(
        {e, last_used,
         describe_refs(refs == v.refs.end() ? decltype(refs->second){} : refs->second)});
    result.removed_bytes += e.bytes;
  }
  // Staging directories of processes that are gone: a node computed by a killed run, an entry
  // whose removal was interrupted. Another host's are unknowable by pid: none is removed while a
  // process of another host has a live pin.
  constexpr double kStagingGraceS = 3600;
  if (!other_hosts_alive)
    for (const auto& s : scan_staging(cache))
      if (!local_process_alive(s.pid) && now - s.mtime > kStagingGraceS) {
        result.staging_removed.push_back(s);
        result.staging_bytes += s.bytes;
      }
  result.stale_pins = static_cast<int>(v.stale_pins.size());
  return result;
}

std::string size_cell(int64_t bytes, Format format) {
  return format == Format::kTable ? human_size(bytes) : std::to_string(bytes);
}

std::string time_cell(double t, Format format) {
  return format == Format::kTable ? format_local_time(t) : fmt::format("{:.3f}", t);
}

}  // namespace

double parse_duration(const std::string& text, const std::string& option) {
  auto bad = [&] {
    return ConfigError(
        kCommandLine, option,
        "expected a duration such as 30d, 12h, 90m, 45s, 2w or 1d12h, got \"" + text + "\"");
  };
  if (auto plain = parse_double(text)) {
    if (*plain < 0 || !std::isfinite(*plain)) throw bad();
    return *plain;
  }
  double total = 0;
  size_t i = 0;
  if (text.empty()) throw bad();
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    if (j == i || j == text.size()) throw bad();
    const auto n = parse_double(text.substr(i, j - i));
    if (!n) throw bad();
    double unit = 0;
    switch (text[j]) {
      case 'w':
        unit = 7 * 86400;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'm':
        unit = 60;
        break;
      case 's':
        unit = 1;
        break;
      default:
        throw bad();
    }
    total += *n * unit;
    i = j + 1;
  }
  return total;
}

std::string human_size(int64_t bytes) {
  if (bytes < 1000) return fmt::format("{} B", bytes);
  const char* units[] = {"kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1000 && u < 3) v /= 1000, ++u;
  return fmt::format("{:.1f} {}", v, units[u]);
}

GcResult collect_garbage(const fs::path& workspace, const GcOptions& options) {
  const fs::path cache = workspace / "cache";
  open_store(workspace, false);  // a clear error when there is no database
  if (!fs::exists(cache)) return {};
  // Held from before the pins are read until the last removal: no executor can pin (and so
  // start looking entries up) in between. A dry run changes nothing and takes no lock.
  std::unique_ptr<CacheGcLock> lock;
  if (!options.dry_run) lock = std::make_unique<CacheGcLock>(cache);
  const GcView view = read_gc_view(workspace, options);
  const std::string host = local_host_name();
  const bool other_hosts_alive = std::any_of(view.live_pins.begin(), view.live_pins.end(),
                                             [&](const PinInfo& p) { return p.host != host; });
  GcResult result = decide(view, options, unix_now(), other_hosts_alive, cache);
  if (options.dry_run) return result;
  for (const auto& pin : view.stale_pins) {
    std::error_code ec;
    fs::remove(pin.file, ec);
  }
  for (auto& c : result.removed) remove_cache_entry(cache, c.entry.key);
  for (const auto& s : result.staging_removed) remove_tree(s.path);
  return result;
}

void cache_gc(const fs::path& workspace, const GcOptions& options, bool list, Format format,
              std::ostream& out) {
  const GcResult r = collect_garbage(workspace, options);
  if (options.dry_run || list || format != Format::kTable) {
    Table t{{"key", "op", "node", "bytes", "last_used", "reason"},
            {},
            {false, false, false, format != Format::kTable, format != Format::kTable, false}};
    if (format == Format::kTable) t.columns = {"key", "op", "node", "size", "last used", "reason"};
    for (const auto& c : r.removed)
      t.add_row({c.entry.key, c.entry.op.empty() ? "(no record)" : c.entry.op, c.entry.node,
                 size_cell(c.entry.bytes, format), time_cell(c.last_used, format), c.reason});
    for (const auto& s : r.staging_removed)
      t.add_row({s.path.filename().string(), "(staging)", "", size_cell(s.bytes, format),
                 time_cell(s.mtime, format),
                 fmt::format("left by process {}, which is gone", s.pid)});
    print(t, format, out);
    if (format != Format::kTable) return;
  } else {
    std::map<std::string, std::pair<int64_t, int64_t>> by_op;  // op -> (entries, bytes)
    for (const auto& c : r.removed) {
      auto& [n, bytes] = by_op[c.entry.op.empty() ? "(no record)" : c.entry.op];
      ++n, bytes += c.entry.bytes;
    }
    if (!by_op.empty()) {
      Table t{{"op", "entries", "size"}, {}, {false, true, true}};
      for (const auto& [op, nb] : by_op)
        t.add_row({op, std::to_string(nb.first), human_size(nb.second)});
      print(t, Format::kTable, out);
    }
  }
  out << fmt::format("{} {} cache entries ({}){}; kept {} ({})\n",
                     options.dry_run ? "would remove" : "removed", r.removed.size(),
                     human_size(r.removed_bytes),
                     r.staging_removed.empty()
                         ? ""
                         : fmt::format(" and {} staging directories ({})", r.staging_removed.size(),
                                       human_size(r.staging_bytes)),
                     r.kept_entries, human_size(r.kept_bytes));
}

Table cache_du_table(const fs::path& workspace) {
  GcOptions defaults;
  defaults.dry_run = true;
  const fs::path cache = workspace / "cache";
  open_store(workspace, false);
  const GcView view = read_gc_view(workspace, defaults);
  const GcResult gc = decide(view, defaults, unix_now(), true, cache);
  std::set<std::string> reclaimable;
  for (const auto& c : gc.removed) reclaimable.insert(c.entry.key);

  struct Sums {
    int64_t entries = 0, bytes = 0, free = 0;
  };
  std::map<std::string, Sums> by_op;
  const char* const kAges[] = {"< 1 day", "1-7 days", "7-30 days", "> 30 days"};
  Sums by_age[4], total;
  const double now = unix_now();
  for (const auto& e : view.entries) {
    double last = e.mtime;
    if (auto it = view.last_use.find(e.key); it != view.last_use.end())
      last = std::max(last, it->second);
    const double days = (now - last) / 86400;
    const int age = days < 1 ? 0 : days < 7 ? 1 : days < 30 ? 2 : 3;
    const int64_t free = reclaimable.count(e.key) ? e.bytes : 0;
    for (Sums* s : {&by_op[e.op.empty() ? "(no record)" : e.op], &by_age[age], &total}) {
      ++s->entries;
      s->bytes += e.bytes;
      s->free += free;
    }
  }
  Table t{{"group", "name", "entries", "bytes", "reclaimable_bytes"},
          {},
          {false, false, true, true, true}};
  auto row = [&](const std::string& group, const std::string& name, const Sums& s) {
    t.add_row(
        {group, name, std::to_string(s.entries), std::to_string(s.bytes), std::to_string(s.free)});
  };
  for (const auto& [op, s] : by_op) row("op", op, s);
  for (int i = 0; i < 4; ++i) row("age", kAges[i], by_age[i]);
  Sums staging;
  for (const auto& s : scan_staging(cache)) ++staging.entries, staging.bytes += s.bytes;
  row("staging", "staging", staging);
  row("total", "total", total);
  return t;
}

void cache_du(const fs::path& workspace, Format format, std::ostream& out) {
  const Table t = cache_du_table(workspace);
  if (format != Format::kTable) {
    print(t, format, out);
    return;
  }
  auto section = [&](const std::string& group, const std::string& heading) {
    Table s{{heading, "entries", "size", "gc would free"}, {}, {false, true, true, true}};
    for (const auto& r : t.rows)
      if (r[0] == group)
        s.add_row({r[1], r[2], human_size(std::stoll(r[3])), human_size(std::stoll(r[4]))});
    print(s, Format::kTable, out);
  };
  const auto& total = t.rows.back();
  const auto& staging = t.rows[t.rows.size() - 2];
  out << fmt::format("{}: {} entries, {}; `flowlab cache gc` would free {}",
                     (workspace / "cache").string(), total[2], human_size(std::stoll(total[3])),
                     human_size(std::stoll(total[4])));
  if (staging[2] != "0")
    out << fmt::format(" (staging: {} directories, {})", staging[2],
                       human_size(std::stoll(staging[3])));
  out << "\n\nby op\n";
  section("op", "op");
  out << "\nby age (last used: written, or recorded by a run)\n";
  section("age", "age");
}

void delete_runs(const fs::path& workspace, const std::vector<std::string>& refs, bool purge,
                 std::ostream& out) {
  Store store = open_store(workspace, true);
  const std::vector<int64_t> named = resolve_runs(store, refs, RunView::kActiveOnly);
  const std::vector<int64_t> ids = store.with_descendants(named);
  for (int64_t id : ids) {
    const auto r = store.get_run(id);
    if (r && is_live(*r))
      throw ConfigError(kCommandLine, "RUN",
                        fmt::format("run {} is still running (pid {} on {}); stop it first", id,
                                    r->pid, r->host));
  }
  if (purge)  // a running sweep still writes to (and aggregates read) its children's rows
    for (int64_t id : named)
      for (auto r = store.get_run(id); r && r->parent_id;) {
        r = store.get_run(*r->parent_id);
        if (r && is_live(*r))
          throw ConfigError(kCommandLine, "RUN",
                            fmt::format("run {} belongs to sweep {}, which is still running (pid "
                                        "{}); purge it when the sweep has ended",
                                        id, r->id, r->pid));
      }
  const size_t below = ids.size() - named.size();
  std::string which;
  for (int64_t id : named) which += (which.empty() ? "" : ", ") + std::to_string(id);
  const std::string children =
      below ? fmt::format(" and {} run{} below {}", below, below == 1 ? "" : "s",
                          named.size() == 1 ? "it" : "them")
            : "";
  if (!purge) {
    const int changed = store.set_deleted(ids, true);
    out << fmt::format("deleted run{} {}{}", named.size() == 1 ? "" : "s", which, children);
    if (changed < static_cast<int>(ids.size()))
      out << fmt::format(" ({} already deleted)", ids.size() - changed);
    out << fmt::format("; `flowlab restore {}` brings {} back\n", which,
                       ids.size() == 1 ? "it" : "them");
    return;
  }

  // Purge: the rows go, then every cache entry (and checkpoint) of theirs that no remaining run
  // references and no running process has pinned.
  const std::set<int64_t> doomed(ids.begin(), ids.end());
  std::set<std::string> keys;
  for (const auto& ref : store.cache_references())
    if (doomed.count(ref.run_id)) keys.insert(ref.cache_key);
  const fs::path cache = workspace / "cache";
  std::unique_ptr<CacheGcLock> lock;
  if (fs::exists(cache)) lock = std::make_unique<CacheGcLock>(cache);
  const int removed_runs = store.purge_runs(ids);
  for (const auto& ref : store.cache_references()) keys.erase(ref.cache_key);
  const auto runs = all_runs(store);
  const std::string host = local_host_name();
  for (const auto& pin : read_pins(cache))
    if (pin_alive(pin, runs, host))
      for (const auto& k : pin.keys) keys.erase(k);
  int entries = 0;
  int64_t bytes = 0;
  for (const auto& key : keys) {
    if (key.size() >= 2 && fs::exists(cache / key.substr(0, 2) / key)) {
      bytes += remove_cache_entry(cache, key);
      ++entries;
    }
    const fs::path checkpoint = workspace / "checkpoints" / key;
    if (fs::exists(checkpoint)) bytes += remove_tree(checkpoint);
  }
  out << fmt::format("purged run{} {}{}: {} run{} removed with {} rows, and {} cache entr{} ({})\n",
                     named.size() == 1 ? "" : "s", which, children, removed_runs,
                     removed_runs == 1 ? "" : "s", removed_runs == 1 ? "its" : "their", entries,
                     entries == 1 ? "y" : "ies", human_size(bytes));
}

void restore_runs(const fs::path& workspace, const std::vector<std::string>& refs,
                  std::ostream& out) {
  Store store = open_store(workspace, true);
  const std::vector<int64_t> named = resolve_runs(store, refs, RunView::kDeletedOnly);
  const std::vector<int64_t> ids = store.with_descendants(named);
  const int changed = store.set_deleted(ids, false);
  std::string which;
  for (int64_t id : named) which += (which.empty() ? "" : ", ") + std::to_string(id);
  if (changed == 0) {
    out << fmt::format("run{} {} {} not deleted; nothing to restore\n",
                       named.size() == 1 ? "" : "s", which, named.size() == 1 ? "was" : "were");
    return;
  }
  out << fmt::format("restored {} run{} ({}{})\n", changed, changed == 1 ? "" : "s", which,
                     ids.size() > named.size() ? " with the runs below" : "");
}

void tag_run(const fs::path& workspace, const std::string& ref,
             const std::vector<std::string>& assignments, const std::optional<std::string>& note,
             const std::vector<std::string>& deletions, Format format, std::ostream& out) {
  // Everything is checked before anything is written.
  std::map<std::string, std::string> set;
  for (const auto& a : assignments) {
    const auto eq = a.find('=');
    const std::string key = eq == std::string::npos ? a : a.substr(0, eq);
    if (eq == std::string::npos || key.empty() || key.find_first_not_of(" \t") == std::string::npos)
      throw ConfigError(kCommandLine, "tag",
                        "expected key=value (e.g. owner=ana), got \"" + a + "\"");
    if (key.front() == ' ' || key.back() == ' ')
      throw ConfigError(kCommandLine, "tag",
                        "a tag name must not start or end with a space: \"" + key + "\"");
    set[key] = a.substr(eq + 1);
  }
  if (note) set["note"] = *note;
  for (const auto& key : deletions)
    if (set.count(key))
      throw ConfigError(kCommandLine, "--delete",
                        "tag '" + key + "' is both set and deleted in one command");
  if (set.empty() && deletions.empty())
    throw ConfigError(kCommandLine, "tag",
                      "nothing to do: give key=value pairs, --note TEXT or --delete KEY");
  Store store = open_store(workspace, true);
  const int64_t id = resolve_run(store, ref);
  std::vector<std::string> missing;
  for (const auto& key : deletions)
    if (!store.delete_tag(id, key)) missing.push_back(key);
  store.set_tags(id, set);
  if (!missing.empty() && format == Format::kTable) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    out << fmt::format("run {} had no tag {}\n", id, names);
  }
  Table t{{"run", "tag", "value"}, {}, {true, false, false}};
  for (const auto& [k, v] : store.tags(id)) t.add_row({std::to_string(id), k, v});
  print(t, format, out);
}

void add_housekeeping_commands(CLI::App& app, GlobalOptions& global) {
  auto* cache = app.add_subcommand("cache", "the node cache: its size (du) and cleaning it (gc)");
  cache->require_subcommand(1);

  auto du_format = std::make_shared<std::string>("table");
  auto* du = cache->add_subcommand(
      "du", "cache size by op and by age of last use, and what `cache gc` would free");
  du->add_option("--format", *du_format, "table, csv or json");
  du->callback([=, &global] { cache_du(global.workspace(), parse_format(*du_format), std::cout); });

  auto gc_options = std::make_shared<GcOptions>();
  auto older_than = std::make_shared<std::string>();
  auto gc_list = std::make_shared<bool>(false);
  auto gc_format = std::make_shared<std::string>("table");
  auto* gc = cache->add_subcommand(
      "gc",
      "remove cache entries that neither the newest run, a FINISHED run nor a running one uses");
  gc->add_flag("-n,--dry-run", gc_options->dry_run, "list what would be removed; remove nothing");
  gc->add_option("--older-than", *older_than,
                 "only entries unused for at least this long: 30d, 12h, 90m, 2w, 1d12h");
  gc->add_option("--keep-last", gc_options->keep_last,
                 "keep what the N newest top-level runs (with their sweep children) use "
                 "(default 1)")
      ->check(CLI::NonNegativeNumber);
  gc->add_flag("--list", *gc_list, "list every entry removed (a dry run always lists them)");
  gc->add_option("--format", *gc_format, "table, csv or json (csv/json list every entry)");
  gc->footer(kCacheGcHelp);
  gc->callback([=, &global] {
    GcOptions options = *gc_options;
    if (!older_than->empty()) options.older_than_s = parse_duration(*older_than);
    cache_gc(global.workspace(), options, *gc_list, parse_format(*gc_format), std::cout);
  });

  auto delete_refs = std::make_shared<std::vector<std::string>>();
  auto purge = std::make_shared<bool>(false);
  auto* del = app.add_subcommand(
      "delete", "delete runs (a sweep with its children): hidden and restorable, or --purge");
  del->add_option("runs", *delete_refs, "run ids (or 'last')")->required();
  del->add_flag("--purge", *purge,
                "remove the runs' rows and the cache entries no other run uses, for good");
  del->footer(kDeleteHelp);
  del->callback([=, &global] { delete_runs(global.workspace(), *delete_refs, *purge, std::cout); });

  auto restore_refs = std::make_shared<std::vector<std::string>>();
  auto* restore = app.add_subcommand("restore", "bring deleted runs back (with their children)");
  restore->add_option("runs", *restore_refs, "run ids (or 'last': the newest deleted run)")
      ->required();
  restore->callback([=, &global] { restore_runs(global.workspace(), *restore_refs, std::cout); });

  auto tag_ref = std::make_shared<std::string>();
  auto assignments = std::make_shared<std::vector<std::string>>();
  auto note = std::make_shared<std::string>();
  auto deletions = std::make_shared<std::vector<std::string>>();
  auto tag_format = std::make_shared<std::string>("table");
  auto* tag = app.add_subcommand("tag", "set or remove a run's tags (and its note)");
  tag->add_option("run", *tag_ref, "run id or 'last'")->required();
  tag->add_option("tags", *assignments, "key=value pairs");
  auto* note_opt = tag->add_option("--note", *note, "a free-text note (the tag `note`)");
  tag->add_option("--delete", *deletions, "remove this tag (repeatable)")->allow_extra_args(false);
  tag->add_option("--format", *tag_format, "table, csv or json");
  tag->footer(kTagHelp);
  tag->callback([=, &global] {
    std::optional<std::string> n;
    if (note_opt->count() > 0) n = *note;
    tag_run(global.workspace(), *tag_ref, *assignments, n, *deletions, parse_format(*tag_format),
            std::cout);
  });
}

}  // namespace flowlab::cli
