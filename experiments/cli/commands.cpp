#include "experiments/cli/commands.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/app.h"
#include "graph/compose.h"
#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/reader.h"
#include "tracking/store.h"

namespace flowlab::cli {
namespace fs = std::filesystem;

namespace {

// The results database for reading: read-only, so that `runs` and `show` work in a read-only
// workspace and never wait for a run's write lock (an older file is read as it is).
tracking::Store open_existing(const fs::path& workspace) {
  return tracking::Store(existing_results_store(workspace), tracking::Store::Access::kReadOnly);
}

// The most telling final number of each run: an evaluator's accuracy if there is one, else a test
// accuracy. One read for every run a table lists.
std::map<int64_t, std::string> headlines(const fs::path& workspace,
                                         const std::vector<int64_t>& ids) {
  std::map<int64_t, std::string> out;
  const tracking::RunReader reader(results_store(workspace));
  for (const auto& [id, metrics] : reader.final_metrics(ids)) {
    std::string accuracy, test_accuracy;
    for (const auto& m : metrics) {
      if (m.key == "accuracy" && accuracy.empty()) accuracy = format_number(m.value);
      if (m.key == "test_accuracy" && test_accuracy.empty()) test_accuracy = format_number(m.value);
    }
    out[id] = accuracy.empty() ? test_accuracy : accuracy;
  }
  return out;
}

}  // namespace

fs::path resolve_workspace(const std::string& flag, const fs::path& project_root) {
  if (!flag.empty()) return flag;
  if (const char* home = std::getenv("FLOWLAB_HOME"); home && *home) return home;
  // No project given (a spec outside any): the current directory's, where `flowlab runs` looks.
  fs::path root = project_root.empty() ? find_project_root(fs::current_path()) : project_root;
  return (root.empty() ? fs::current_path() : root) / ".flowlab";
}

tracking::StoreLocation results_store(const fs::path& workspace) {
  if (const char* uri = std::getenv("FLOWLAB_STORE"); uri && *uri)
    return tracking::StoreLocation::parse(uri);
  return workspace / "runs.db";
}

tracking::StoreLocation existing_results_store(const fs::path& workspace) {
  tracking::StoreLocation where = results_store(workspace);
  if (where.is_sqlite() && !fs::exists(where.sqlite_path))
    throw ConfigError(SourceLocation{where.sqlite_path.string()}, "",
                      "no results database here yet; run a spec first or pass --workspace "
                      "(or --store)");
  return where;
}

fs::path GlobalOptions::workspace() const { return resolve_workspace(workspace_flag, {}); }

fs::path GlobalOptions::workspace_for_spec(const fs::path& spec, const fs::path& config_dir) const {
  // The project is where the config groups are: --config-dir's parent when given, else the root
  // found from the spec's folder.
  return resolve_workspace(workspace_flag, config_dir.empty()
                                               ? find_project_root(fs::absolute(spec).parent_path())
                                               : fs::absolute(config_dir).parent_path());
}

bool run_process_alive(const tracking::RunRow& run) {
  if (run.status != tracking::RunStatus::kRunning) return false;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const double now = unix_now();
  // Runs heartbeat every 5 s: a minute of silence means the process is gone, even if its pid
  // has been reused since.
  if (run.heartbeat && now - *run.heartbeat > 60) return false;
  if (run.host == host) {
    if (run.pid <= 0 || (kill(static_cast<pid_t>(run.pid), 0) != 0 && errno != EPERM)) return false;
    // A killed process stays a zombie until its parent reaps it: that is not alive either.
    std::ifstream stat("/proc/" + std::to_string(run.pid) + "/stat");
    std::string pid, comm, state;
    if (stat >> pid >> comm >> state && state == "Z") return false;
    return true;
  }
  return run.heartbeat.has_value();
}

std::string display_status(const tracking::RunRow& run) {
  if (run.status == tracking::RunStatus::kRunning && !run_process_alive(run)) return "STALE";
  return tracking::to_string(run.status);
}

// Overrides are stored as a JSON array; show them as the user typed them.
static std::string display_overrides(const std::string& stored) {
  try {
    auto j = nlohmann::json::parse(stored);
    std::string out;
    for (const auto& o : j) out += (out.empty() ? "" : " ") + o.get<std::string>();
    return out;
  } catch (const std::exception&) {
    return stored;
  }
}

int64_t resolve_run(const tracking::Store& store, const std::string& run) {
  const SourceLocation command_line{"command line"};
  if (run == "last") {
    auto runs = store.list_runs(1);
    if (runs.empty()) throw ConfigError(command_line, "RUN", "there are no runs yet");
    // What the last command made: after a sweep, the sweep (its newest run is a child).
    tracking::RunRow last = runs.front();
    while (last.parent_id) {
      auto parent = store.get_run(*last.parent_id);
      if (!parent) break;
      last = *parent;
    }
    return last.id;
  }
  const auto id = parse_int64(run);
  if (!id) {
    // A run's uuid (as `flowlab store copy` keeps it across stores, and MLflow names runs).
    if (auto by_uuid = store.find_run(run)) return *by_uuid;
    throw ConfigError(command_line, "RUN",
                      "expected a run id, a run's uuid or 'last', got \"" + run + "\"");
  }
  if (!store.get_run(*id))
    throw ConfigError(command_line, "RUN", fmt::format("no run with id {}", *id));
  return *id;
}

namespace {

// A filter value in single quotes ('' for a quote inside).
std::string quoted_value(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void list_runs(const fs::path& workspace, int limit, Format format, std::ostream& out,
               tracking::RunView view) {
  RunListing listing;
  listing.limit = limit;
  listing.view = view;
  listing.all = true;  // every run, as before the listing had options
  list_runs(workspace, listing, format, out);
}

void list_runs(const fs::path& workspace, const RunListing& listing, Format format,
               std::ostream& out) {
  auto store = open_existing(workspace);
  const std::string status = listing.status;
  const bool stale = status == "STALE";
  // Which runs: a filter in the query grammar, so that listing and `flowlab query` agree.
  std::vector<std::string> terms;
  if (listing.parent)
    terms.push_back(fmt::format("parent_id = {}", *listing.parent));
  else if (!listing.all)
    terms.push_back("parent_id IS NULL");
  // STALE: the filter knows silent runs; a dead process on this host shows sooner (its pid).
  if (!status.empty())
    terms.push_back(stale ? "status IN ('RUNNING', 'STALE')" : "status = " + quoted_value(status));
  if (!listing.experiment.empty())
    terms.push_back("experiment = " + quoted_value(listing.experiment));
  tracking::RunQuery q;
  q.filter = join(terms, " and ");
  q.columns = "id";
  q.view = listing.view;
  // STALE is decided per run (is its process alive?): take every RUNNING one, then keep those.
  q.limit = stale ? 0 : listing.limit;
  tracking::ensure_current_schema(store.location());
  const tracking::ReadOnlyDb db(store.location());
  std::vector<tracking::RunRow> runs;
  for (const auto& row : tracking::run_query(db, q).rows) {
    auto r = store.get_run(std::get<int64_t>(row[0]));
    if (!r || (stale && display_status(*r) != "STALE")) continue;
    runs.push_back(std::move(*r));
    if (static_cast<int>(runs.size()) == listing.limit) break;
  }

  Table t{{"id", "experiment", "name", "status", "started", "seconds", "accuracy", "overrides"},
          {},
          {true, false, false, false, false, true, true, false}};
  const bool show_deleted = listing.view != tracking::RunView::kActiveOnly;
  if (show_deleted) t.columns.push_back("deleted"), t.numeric.push_back(false);
  std::vector<int64_t> ids;
  for (const auto& r : runs) ids.push_back(r.id);
  auto headline = headlines(workspace, ids);
  // A sweep's parent says how many runs it holds, by status: `runs --parent ID` lists them.
  const auto child_statuses = tracking::RunReader(store.location()).child_status_counts(ids);
  if (!child_statuses.empty()) t.columns.push_back("runs"), t.numeric.push_back(false);
  // Runs a Slurm job ran (or will run) get a column with its id: `squeue -j`, `scancel` take it.
  std::map<int64_t, std::string> slurm_job;
  for (const auto& r : runs)
    if (auto tags = store.tags(r.id); tags.count("slurm.job_id"))
      slurm_job[r.id] = tags.at("slurm.job_id");
  if (!slurm_job.empty()) t.columns.push_back("slurm_job"), t.numeric.push_back(false);
  for (const auto& r : runs) {
    std::string seconds = r.end_time ? fmt::format("{:.1f}", *r.end_time - r.start_time) : "";
    std::vector<std::string> row{std::to_string(r.id),
                                 r.experiment,
                                 r.name,
                                 display_status(r),
                                 format_local_time(r.start_time),
                                 seconds,
                                 headline[r.id],
                                 display_overrides(r.overrides)};
    if (show_deleted) row.push_back(r.deleted_at ? format_local_time(*r.deleted_at) : "");
    if (!child_statuses.empty()) {
      auto it = child_statuses.find(r.id);
      std::vector<std::string> statuses;
      if (it != child_statuses.end())
        for (const auto& [status, n] : it->second) statuses.insert(statuses.end(), n, status);
      row.push_back(statuses.empty()
                        ? ""
                        : fmt::format("{} ({})", statuses.size(), children_counts(statuses)));
    }
    if (!slurm_job.empty()) row.push_back(slurm_job.count(r.id) ? slurm_job.at(r.id) : "");
    t.add_row(std::move(row));
  }
  print(t, format, out);
  if (format == Format::kTable && !listing.all && !listing.parent && !child_statuses.empty())
    out << "(sweeps are folded: `flowlab runs --parent ID` lists one's runs, --all every run)\n";
}

void show_run(const fs::path& workspace, const std::string& run, Format format, std::ostream& out,
              bool by_node) {
  auto store = open_existing(workspace);
  const int64_t id = resolve_run(store, run);
  const auto r = store.get_run(id);
  auto params = store.params(id);
  auto tags = store.tags(id);
  auto metrics = store.final_metrics(id);
  if (by_node) {
    // Final metrics as a matrix: one row per metric key, one column per node that logged it, so
    // evaluators of the same models (Cohen, LVM, dual smoothing) read side by side.
    std::vector<std::string> node_order, keys;
    std::map<std::pair<std::string, std::string>, double> value;
    for (const auto& m : metrics) {
      if (std::find(node_order.begin(), node_order.end(), m.node) == node_order.end())
        node_order.push_back(m.node);
      if (std::find(keys.begin(), keys.end(), m.key) == keys.end()) keys.push_back(m.key);
      value[{m.node, m.key}] = m.value;
    }
    Table t{{"metric"}, {}, {false}};
    for (const auto& n : node_order) t.columns.push_back(n), t.numeric.push_back(true);
    for (const auto& k : keys) {
      std::vector<std::string> row{k};
      for (const auto& n : node_order) {
        auto it = value.find({n, k});
        row.push_back(it == value.end() ? "" : format_number(it->second, 4));
      }
      t.add_row(row);
    }
    print(t, format, out);
    return;
  }
  auto nodes = store.node_executions(id);
  auto artifacts = store.artifacts(id);

  if (format == Format::kJson) {
    nlohmann::ordered_json j;
    j["id"] = r->id;
    j["uuid"] = r->uuid;
    j["experiment"] = r->experiment;
    j["name"] = r->name;
    j["status"] = display_status(*r);
    j["start_time"] = r->start_time;
    j["end_time"] = r->end_time ? nlohmann::ordered_json(*r->end_time) : nullptr;
    j["spec_file"] = r->spec_file;
    j["overrides"] =
        nlohmann::json::parse(r->overrides.empty() ? "[]" : r->overrides, nullptr, false);
    j["git_commit"] = r->git_commit;
    j["host"] = r->host;
    j["seed"] = r->seed;
    j["flowlab_version"] = r->flowlab_version;
    j["error"] = r->error;
    j["deleted_at"] = r->deleted_at ? nlohmann::ordered_json(*r->deleted_at) : nullptr;
    j["params"] = params;
    j["tags"] = tags;
    for (const auto& m : metrics) j["metrics"][m.node + "." + m.key] = m.value;
    for (const auto& n : nodes)
      j["nodes"].push_back({{"node", n.node},
                            {"op", n.op},
                            {"status", n.status},
                            {"cache_hit", n.cache_hit},
                            {"seconds", n.end_time - n.start_time},
                            {"cache_key", n.cache_key},
                            {"error", n.error}});
    for (const auto& a : artifacts)
      j["artifacts"].push_back(
          {{"node", a.node}, {"kind", a.kind}, {"path", a.path}, {"sha256", a.sha256}});
    j["composed_yaml"] = r->composed_yaml;
    out << j.dump(2) << "\n";
    return;
  }
  if (format == Format::kCsv) {
    // One row per value, so the whole run fits a single CSV.
    Table t{{"section", "key", "value"}, {}, {}};
    t.add_row({"run", "status", display_status(*r)});
    t.add_row({"run", "experiment", r->experiment});
    if (r->deleted_at) t.add_row({"run", "deleted_at", fmt::format("{:.3f}", *r->deleted_at)});
    for (const auto& [k, v] : params) t.add_row({"param", k, v});
    for (const auto& [k, v] : tags) t.add_row({"tag", k, v});
    for (const auto& m : metrics)
      t.add_row({"metric", m.node + "." + m.key, format_number(m.value, 6)});
    for (const auto& n : nodes) t.add_row({"node", n.node, n.status});
    print(t, Format::kCsv, out);
    return;
  }
  out << fmt::format("run {}  {}  ({}){}\n", r->id, display_status(*r), r->uuid,
                     r->deleted_at ? fmt::format("  DELETED {} (flowlab restore {})",
                                                 format_local_time(*r->deleted_at), r->id)
                                   : "");
  out << fmt::format("  experiment  {}\n  spec        {}{}\n", r->experiment, r->spec_file,
                     r->overrides.empty() ? "" : "  " + display_overrides(r->overrides));
  out << fmt::format("  started     {}   wall {}\n", format_local_time(r->start_time),
                     r->end_time ? fmt::format("{:.1f} s", *r->end_time - r->start_time) : "-");
  out << fmt::format("  host        {}   seed {}   flowlab {}{}\n", r->host, r->seed,
                     r->flowlab_version,
                     r->git_commit.empty() ? "" : "   git " + r->git_commit.substr(0, 12));
  if (!r->error.empty()) out << "  error       " << r->error << "\n";
  if (auto note = tags.find("note"); note != tags.end())
    out << "  note        " << note->second << "\n";
  if (tags.size() > (tags.count("note") ? 1u : 0u)) {
    std::string line;
    for (const auto& [k, v] : tags)
      if (k != "note") line += (line.empty() ? "" : "  ") + k + "=" + v;
    out << "  tags        " << line << "\n";
  }
  if (auto children = store.children(id); !children.empty()) {
    out << "\nchild runs\n";
    Table ct{
        {"id", "overrides", "status", "seconds", "accuracy"}, {}, {true, false, false, true, true}};
    // A large sweep: the first rows and counts here, every row one query away.
    constexpr size_t kShownChildren = 30;
    const size_t shown = children.size() > 2 * kShownChildren ? kShownChildren : children.size();
    std::vector<int64_t> shown_ids;
    for (size_t i = 0; i < shown; ++i) shown_ids.push_back(children[i].id);
    auto headline = headlines(workspace, shown_ids);
    std::vector<std::string> statuses;
    for (size_t i = 0; i < children.size(); ++i) {
      const auto& c = children[i];
      statuses.push_back(display_status(c));
      if (i >= shown) continue;
      ct.add_row({std::to_string(c.id), display_overrides(c.overrides), display_status(c),
                  c.end_time ? fmt::format("{:.1f}", *c.end_time - c.start_time) : "",
                  headline[c.id]});
    }
    print(ct, Format::kTable, out);
    if (ct.rows.size() < children.size()) {
      out << fmt::format("... {} children in all: {}  {}\n", children.size(),
                         children_counts(statuses), children_query_hint(r->id));
    }
  }
  out << "\nnodes\n";
  Table nt{
      {"node", "op", "status", "seconds", "cache key"}, {}, {false, false, false, true, false}};
  for (const auto& n : nodes)
    nt.add_row({n.node, n.op, n.status, fmt::format("{:.2f}", n.end_time - n.start_time),
                n.cache_key.substr(0, 12)});
  print(nt, Format::kTable, out);
  out << "\nfinal metrics\n";
  Table mt{{"node", "metric", "value"}, {}, {false, false, true}};
  for (const auto& m : metrics) mt.add_row({m.node, m.key, format_number(m.value, 6)});
  print(mt, Format::kTable, out);
  out << "\nparams\n";
  Table pt{{"param", "value"}, {}, {}};
  for (const auto& [k, v] : params) pt.add_row({k, v});
  print(pt, Format::kTable, out);
  if (!artifacts.empty()) {
    out << "\nartifacts\n";
    Table at{{"node", "kind", "path"}, {}, {}};
    for (const auto& a : artifacts) at.add_row({a.node, a.kind, a.path});
    print(at, Format::kTable, out);
  }
  out << "\ncomposed spec\n" << r->composed_yaml;
}

namespace {

// "float", "list of float", "map of float", "string (a classifier)".
std::string type_name(const ParamSpec& p) {
  if (p.type == ParamType::kList) return "list of " + to_string(p.element);
  if (p.type == ParamType::kMap) return "map of " + to_string(p.element);
  if (!p.group.empty()) return "string (a " + p.group + " model)";
  return to_string(p.type);
}

Table param_table(const std::vector<ParamSpec>& specs) {
  Table params{{"param", "type", "default", "allowed", "doc"}, {}, {}};
  for (const auto& p : specs) {
    std::string def = p.default_value ? display_text(*p.default_value) : "(required)";
    if (p.type == ParamType::kFloat && p.default_value)
      def = format_number(std::get<double>(*p.default_value), 6);
    if (p.inherit_from_spec) def += " (or spec's " + p.name + ")";
    std::string allowed = p.expectation();
    if (const auto* g = &p.group; !g->empty()) allowed = "see `flowlab models " + *g + "`";
    params.add_row({p.name, type_name(p), def, allowed, p.doc});
  }
  return params;
}

}  // namespace

void show_models(const Registry& registry, const std::string& name, Format format,
                 std::ostream& out) {
  if (name.empty() || registry.find_group(name)) {
    Table t{{"family", "model", "params", "summary"}, {}, {}};
    for (const auto& [family, group] : registry.groups()) {
      if (!name.empty() && family != name) continue;
      for (const auto& [model, choice] : group.choices) {
        std::string params;
        for (const auto& p : choice.params) params += (params.empty() ? "" : ", ") + p.name;
        t.add_row({family, model, params.empty() ? "-" : params, choice.summary});
      }
    }
    print(t, format, out);
    return;
  }
  // FAMILY/MODEL, or a model name that only one family has.
  std::vector<std::pair<const ParamGroup*, const ParamChoice*>> found;
  std::vector<std::string> all;
  for (const auto& [family, group] : registry.groups())
    for (const auto& [model, choice] : group.choices) {
      all.push_back(family + "/" + model);
      if (name == model || name == family + "/" + model) found.push_back({&group, &choice});
    }
  if (found.size() != 1) {
    auto notes = did_you_mean(name, all);
    notes.push_back("run 'flowlab models' to list them");
    throw ConfigError(SourceLocation{"command line"}, "models",
                      found.empty() ? "unknown model '" + name + "'"
                                    : "'" + name + "' is in several families; write FAMILY/" + name,
                      notes);
  }
  auto [group, choice] = found.front();
  Table params = param_table(choice->params);
  if (format != Format::kTable) {
    print(params, format, out);
    return;
  }
  out << fmt::format("{}/{}\n  {}\n  family: {}\n\nparams (set beside `model: {}`)\n", group->name,
                     choice->name, choice->summary, group->summary, choice->name);
  print(params, Format::kTable, out);
}

void show_ops(const Registry& registry, const std::string& name, Format format, std::ostream& out) {
  if (name.empty()) {
    Table t{{"op", "inputs", "output", "summary"}, {}, {}};
    for (const auto& [op_name, op] : registry.ops()) {
      std::string inputs;
      for (const auto& p : op.inputs)
        inputs += (inputs.empty() ? "" : ", ") + p.name + ":" + p.type;
      t.add_row({op_name, inputs.empty() ? "-" : inputs, op.output_type, op.summary});
    }
    print(t, format, out);
    return;
  }
  const OpDef* op = registry.find(name);
  if (!op) {
    auto notes = did_you_mean(name, registry.names());
    notes.push_back("run 'flowlab ops' to list all ops");
    throw ConfigError(SourceLocation{"command line"}, "ops", "unknown op '" + name + "'", notes);
  }
  Table params = param_table(op->params);
  if (format != Format::kTable) {
    print(params, format, out);
    return;
  }
  out << fmt::format("{} (version {})\n  {}\n\n", op->name, op->version, op->summary);
  out << "inputs\n";
  for (const auto& p : op->inputs) out << fmt::format("  {}: {}  {}\n", p.name, p.type, p.doc);
  if (op->inputs.empty()) out << "  (none)\n";
  out << "output\n  " << op->output_type << (op->cache_output ? "" : "  (recomputed, not cached)")
      << "\n";
  if (op->threads > 0)
    out << fmt::format("threads\n  {} LibTorch threads per node (a node's `threads:` overrides)\n",
                       op->threads);
  out << "\nparams\n";
  print(params, Format::kTable, out);
  for (const auto& p : op->params)
    if (const ParamGroup* g = p.group.empty() ? nullptr : registry.find_group(p.group)) {
      std::string names;
      for (const auto& kv : g->choices) names += (names.empty() ? "" : ", ") + kv.first;
      out << fmt::format(
          "\n`{}` chooses among {} models: {}; their params are set beside it "
          "(`flowlab models {}/NAME`)\n",
          p.name, p.group, names, p.group);
    }
}

}  // namespace flowlab::cli
