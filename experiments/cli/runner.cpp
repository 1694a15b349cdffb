#include "experiments/cli/runner.h"

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "experiments/cli/aggregates.h"
#include "experiments/cli/child.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/execution.h"
#include "experiments/cli/record.h"
#include "experiments/cli/run_summary.h"
#include "experiments/cli/slurm_launcher.h"
#include "experiments/cli/table.h"
#include "graph/sweep.h"
#include "tracking/reader.h"

namespace flowlab::cli {
namespace fs = std::filesystem;
using tracking::RunStatus;

Child compose_child(const RunOptions& options, const Registry& registry,
                    std::vector<std::string> overrides) {
  Child c;
  c.overrides = std::move(overrides);
  ComposeOptions compose_options{options.spec, options.config_dir, c.overrides};
  // A param the op declares, or one of an architecture its `model` can pick (train.width), can be
  // set without `+`; the planner then checks it belongs to the architecture chosen.
  compose_options.declared_param = [&registry](const std::string& op, const std::string& param) {
    const OpDef* def = registry.find(op);
    if (!def) return false;
    if (def->find_param(param)) return true;
    for (const auto& p : def->params)
      if (const ParamGroup* g = p.group.empty() ? nullptr : registry.find_group(p.group))
        for (const auto& [name, choice] : g->choices)
          for (const auto& spec : choice.params)
            if (spec.name == param) return true;
    return false;
  };
  c.spec = compose(compose_options);
  c.plan = make_plan(c.spec, registry);
  return c;
}

// Rebuilds a recorded run from its composed spec: no config files are read, so a resumed run
// computes exactly what was recorded even if configs/ changed since.
Child child_from_record(const tracking::RunRow& run, const Registry& registry) {
  Child c;
  c.spec = compose_text(run.composed_yaml, fmt::format("run {} (recorded spec)", run.id), "", {});
  c.spec.spec_file = run.spec_file;
  c.plan = make_plan(c.spec, registry);
  c.run_id = run.id;
  return c;
}

RunOutcome run_composed_sweep(const RunOptions& options, const Registry& registry,
                              std::ostream& out, std::ostream& err, const std::atomic<bool>& stop,
                              std::vector<Child> children, const SweepExpansion& sweep,
                              const YAML::Node& aggregate_block);

tracking::StoreLocation store_of(const RunOptions& options) {
  return options.store ? *options.store : results_store(options.workspace);
}

namespace {

// The spec's `store:` (a URI) when neither --store nor $FLOWLAB_STORE chose one.
RunOptions with_spec_store(const RunOptions& options, const ComposedSpec& spec) {
  RunOptions out = options;
  const YAML::Node store = spec.root["store"];
  const char* env = std::getenv("FLOWLAB_STORE");
  if (out.store || (env && *env) || !store.IsDefined() || store.IsNull()) return out;
  if (!store.IsScalar())
    throw ConfigError(spec.where("store"), "store",
                      "expected a store URI (sqlite:///PATH or postgresql://USER@HOST/DB)");
  try {
    out.store = tracking::StoreLocation::parse(store.Scalar());
  } catch (const tracking::StoreError& e) {
    throw ConfigError(spec.where("store"), "store", e.what());
  }
  // The engine and the jobs a launcher starts read it from the environment, like --store.
  setenv("FLOWLAB_STORE", store.Scalar().c_str(), /*overwrite=*/1);
  return out;
}

}  // namespace

RunOutcome run_spec(const RunOptions& given, const Registry& registry, std::ostream& out,
                    std::ostream& err, const std::atomic<bool>& stop) {
  std::vector<Child> children;
  children.push_back(compose_child(given, registry, given.overrides));
  const RunOptions options = with_spec_store(given, children.front().spec);
  if (options.print_config) {
    out << children.front().spec.to_yaml();
    return {};
  }
  // Everything above can fail on user input; nothing below runs until it has all passed.
  fs::create_directories(options.workspace);
  tracking::Store store(store_of(options));
  Child& child = children.front();
  record_child(store, options, child, std::nullopt, options.spec.stem().string(),
               git_commit_of(options.spec));
  err << fmt::format("run {}: {} ({} nodes, workspace {})\n", child.run_id, child.plan.experiment,
                     child.plan.nodes.size(), options.workspace.string());
  BatchResult result = execute_children(children, options, registry, store, {}, err, stop);
  print_single_summary(out, store, child, result);
  if (!result.errors[0].empty() && result.status[0] == RunStatus::kFailed)
    err << "error: " << result.errors[0] << "\n";
  return {exit_code_of(result.status), child.run_id};
}

RunOutcome run_sweep(const RunOptions& given, const Registry& registry, std::ostream& out,
                     std::ostream& err, const std::atomic<bool>& stop) {
  const RunOptions& options = given;  // until the children are composed (then: their `store:`)
  // The primary spec's `sweep:` block, read before composition (it is not a config group).
  YAML::Node primary = load_yaml_file(options.spec);
  fs::path config_dir =
      options.config_dir.empty() ? find_config_dir(options.spec) : options.config_dir;
  YAML::Node block =
      primary.IsMap() ? static_cast<const YAML::Node&>(primary)["sweep"] : YAML::Node();
  SweepExpansion sweep = expand_sweep(block, options.spec.string(), options.overrides, config_dir);
  YAML::Node aggregate_block = block.IsDefined() && block.IsMap()
                                   ? YAML::Clone(static_cast<const YAML::Node&>(block)["aggregate"])
                                   : YAML::Node();
  // Compose and validate every child before anything is recorded.
  std::vector<Child> children;
  for (size_t i = 0; i < sweep.children.size(); ++i) {
    try {
      children.push_back(compose_child(options, registry, sweep.children[i]));
    } catch (const ConfigError&) {
      std::string list;
      for (const auto& o : sweep.children[i]) list += " " + o;
      err << fmt::format("in sweep child {} of {}:{}\n", i + 1, sweep.children.size(), list);
      throw;
    }
    children.back().axes.assign(sweep.children[i].begin() + sweep.fixed.size(),
                                sweep.children[i].end());
  }
  // (Not in the call's arguments: `children` is moved there, in no particular order.)
  const RunOptions with_store = with_spec_store(given, children.front().spec);
  return run_composed_sweep(with_store, registry, out, err, stop, std::move(children), sweep,
                            aggregate_block);
}

RunOutcome run_composed_sweep(const RunOptions& options, const Registry& registry,
                              std::ostream& out, std::ostream& err, const std::atomic<bool>& stop,
                              std::vector<Child> children, const SweepExpansion& sweep,
                              const YAML::Node& aggregate_block) {
  // The children share one graph and one thread budget, so these must be the same for all.
  for (const auto& c : children)
    if (c.plan.threads != children.front().plan.threads ||
        c.plan.device != children.front().plan.device)
      throw ConfigError(SourceLocation{"command line"}, "threads",
                        "sweep children must share `threads` and `device` (they run as one graph); "
                        "set them once, not as sweep axes");
  // Aggregates share the children's thread budget.
  const int threads = children.front().plan.threads;
  Plan aggregates = plan_aggregates(aggregate_block, options.spec.string() + " (sweep.aggregate)",
                                    registry, threads);
  const bool on_slurm = launcher_of(options.launcher, children.front().spec) == "slurm";
  const SlurmSettings slurm = on_slurm ? slurm_settings(children.front().spec) : SlurmSettings{};
  const bool shared_job = on_slurm && !shared_plan(children).nodes.empty();
  if (options.dry_run) {
    Table t{{"child", "overrides", "nodes"}, {}, {true, false, true}};
    for (size_t i = 0; i < children.size(); ++i) {
      std::string axes;
      for (const auto& a : children[i].axes) axes += (axes.empty() ? "" : " ") + a;
      t.add_row({std::to_string(i + 1), axes, std::to_string(children[i].plan.nodes.size())});
    }
    print(t, Format::kTable, out);
    out << fmt::format("{} children (dry run: nothing was run or recorded)\n", children.size());
    if (on_slurm) {
      std::vector<size_t> all(children.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = i;
      const std::string name = options.spec.stem().string();
      out << "\nThe sbatch scripts it would submit (SWEEP stands for the parent run's id):\n";
      for (const char* stage : {"shared", "child", "aggregate"}) {
        if (std::string(stage) == "shared" && !shared_job) continue;
        std::string script = sbatch_script(stage, 0, name, all, slurm, options);
        for (size_t at; (at = script.find("sweep-0")) != std::string::npos;)
          script.replace(at, 7, "sweep-SWEEP");
        for (size_t at; (at = script.find("--sweep 0 ")) != std::string::npos;)
          script.replace(at, 10, "--sweep SWEEP ");
        for (size_t at; (at = script.find("flowlab-0-")) != std::string::npos;)
          script.replace(at, 10, "flowlab-SWEEP-");
        for (size_t at; (at = script.find("sweep 0 (")) != std::string::npos;)
          script.replace(at, 9, "sweep SWEEP (");
        const std::string s = stage;
        const std::string dependency = s == "aggregate" ? " --dependency=afterany:<child job>"
                                       : s == "child" && shared_job
                                           ? " --dependency=afterok:<shared job>"
                                           : "";
        out << fmt::format("\n--- sbatch{} {}.sbatch ---\n{}", dependency, s, script);
      }
    }
    return {};
  }

  fs::create_directories(options.workspace);
  tracking::Store store(store_of(options));
  // The parent run records the sweep itself: its axes, fixed overrides and size.
  tracking::RunStart start = run_start(options, git_commit_of(options.spec));
  start.experiment = children.front().plan.experiment;
  start.name = tracking::sweep_parent_name(options.spec.stem().string());
  YAML::Node summary;
  for (const auto& axis : sweep.axes)
    for (const auto& v : axis.values) summary["axes"][axis.key].push_back(v);
  for (const auto& f : sweep.fixed) summary["fixed"].push_back(f);
  summary["children"] = children.size();
  if (threads > 0) summary["threads"] = threads;
  if (aggregate_block.IsDefined() && !aggregate_block.IsNull())
    summary["aggregate"] = aggregate_block;
  if (on_slurm) summary["launcher"] = to_yaml(slurm);
  YAML::Emitter emitter;
  emitter << summary;
  start.composed_yaml = std::string(emitter.c_str()) + "\n";
  start.overrides = overrides_json(options.overrides);
  start.seed = children.front().plan.seed;
  int64_t parent = store.begin_run(start);
  std::map<std::string, std::string> parent_params;
  for (const auto& axis : sweep.axes) {
    std::string values;
    for (const auto& v : axis.values) values += (values.empty() ? "" : ",") + v;
    parent_params["sweep." + axis.key] = values;
  }
  store.log_params(parent, parent_params);
  // The parent carries the spec's tags that every child shares (a sweep may vary one).
  std::map<std::string, std::string> shared_tags = children.front().plan.tags;
  for (const auto& c : children)
    for (auto it = shared_tags.begin(); it != shared_tags.end();) {
      auto found = c.plan.tags.find(it->first);
      it = found == c.plan.tags.end() || found->second != it->second ? shared_tags.erase(it)
                                                                     : std::next(it);
    }
  store.set_tags(parent, shared_tags);
  for (size_t i = 0; i < children.size(); ++i)
    record_child(store, options, children[i], parent,
                 fmt::format("{}[{}]", options.spec.stem().string(), i + 1), start.git_commit);
  if (on_slurm) {
    std::vector<size_t> all(children.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    return submit_sweep(store, parent, start.name, all, shared_job, slurm, options, out, err);
  }
  err << fmt::format("sweep {}: {} children of {} (workspace {})\n", parent, children.size(),
                     children.front().plan.experiment, options.workspace.string());

  BatchResult result = execute_children(children, options, registry, store, {parent}, err, stop);
  std::string aggregate_errors =
      stop.load() ? "" : run_aggregates(aggregates, parent, options, registry, store, err, stop);
  if (stop.load())
    aggregate_errors.clear();  // interrupted: the parent ends KILLED, resume reruns them
  finish_sweep(store, parent, aggregate_errors, stop.load());
  print_sweep_summary(out, store, parent, children, result);
  int code = exit_code_of(result.status);
  return {code == 0 && !aggregate_errors.empty() ? 1 : code, parent};
}

RunOutcome resume_run(int64_t run_id, const RunOptions& options, const Registry& registry,
                      std::ostream& out, std::ostream& err, const std::atomic<bool>& stop) {
  if (options.launcher == "slurm") return resume_on_slurm(run_id, options, registry, out, err);
  if (!options.launcher.empty() && options.launcher != "local")
    throw ConfigError(SourceLocation{"command line"}, "--launcher",
                      fmt::format("expected local or slurm, got \"{}\"", options.launcher));
  const tracking::StoreLocation db = store_of(options);
  if (db.is_sqlite() && !fs::exists(db.sqlite_path))
    throw ConfigError(SourceLocation{db.sqlite_path.string()}, "",
                      "no results database here; pass --workspace (or --store)");
  tracking::Store store(db);
  auto run = store.get_run(run_id);
  if (!run)
    throw ConfigError(SourceLocation{"command line"}, "RUN",
                      fmt::format("no run with id {}", run_id));
  if (run_process_alive(*run))
    throw ConfigError(
        SourceLocation{"command line"}, "RUN",
        fmt::format("run {} is still running (pid {} on {})", run_id, run->pid, run->host));
  auto recorded_children = store.children(run_id);
  for (const auto& c : recorded_children)
    if (run_process_alive(c))
      throw ConfigError(SourceLocation{"command line"}, "RUN",
                        fmt::format("run {} of sweep {} is still running (pid {} on {})", c.id,
                                    run_id, c.pid, c.host));
  if (run->parent_id) {
    auto parent = store.get_run(*run->parent_id);
    if (parent && run_process_alive(*parent))
      throw ConfigError(SourceLocation{"command line"}, "RUN",
                        fmt::format("its sweep {} is still running (pid {}); resume the sweep when "
                                    "it has ended",
                                    parent->id, parent->pid));
  }
  if (tracking::RunReader(db).is_sweep_parent(run_id)) {
    // A sweep killed while its children were being recorded cannot be resumed child by child.
    YAML::Node summary = YAML::Load(run->composed_yaml);
    size_t expected = summary["children"] ? summary["children"].as<size_t>() : 0;
    if (recorded_children.size() < expected)
      throw ConfigError(SourceLocation{"command line"}, "RUN",
                        fmt::format("sweep {} was interrupted while its children were being "
                                    "recorded ({} of {}); run the sweep again (finished work is "
                                    "cached)",
                                    run_id, recorded_children.size(), expected));
  }

  std::vector<Child> children;
  std::vector<tracking::RunRow> todo;
  if (recorded_children.empty()) {
    if (run->status == RunStatus::kFinished) {
      out << fmt::format("run {} already FINISHED; nothing to resume\n", run_id);
      return {0, run_id};
    }
    todo.push_back(*run);
  } else {
    for (const auto& c : recorded_children)
      if (c.status != RunStatus::kFinished) todo.push_back(c);
    if (todo.empty()) {
      out << fmt::format("sweep {}: all {} children FINISHED\n", run_id, recorded_children.size());
      if (run->status == RunStatus::kFinished) return {0, run_id};
      // Killed (or failed) while its aggregates ran: run them again.
      store.restart_run(run_id, getpid());
      std::string aggregate_errors =
          rerun_recorded_aggregates(*run, options, registry, store, err, stop);
      finish_sweep(store, run_id, aggregate_errors, stop.load());
      if (!aggregate_errors.empty()) err << "error: " << aggregate_errors << "\n";
      return {stop.load() ? 130 : aggregate_errors.empty() ? 0 : 1, run_id};
    }
  }
  for (const auto& r : todo) {
    children.push_back(child_from_record(r, registry));
    try {
      for (const auto& o : nlohmann::json::parse(r.overrides))
        children.back().overrides.push_back(o);
    } catch (const nlohmann::json::exception&) {
    }
    children.back().axes = children.back().overrides;
  }
  // Validation passed for every child: only now touch the records.
  std::vector<int64_t> heartbeat_ids;
  if (!recorded_children.empty()) {
    store.restart_run(run_id, getpid());
    heartbeat_ids.push_back(run_id);
  }
  for (const auto& c : children) store.restart_run(c.run_id, getpid());
  err << fmt::format("resuming {} {}: {} run(s) to finish (workspace {})\n",
                     recorded_children.empty() ? "run" : "sweep", run_id, children.size(),
                     options.workspace.string());
  RunOptions opts = options;
  opts.spec = run->spec_file;
  BatchResult result = execute_children(children, opts, registry, store, heartbeat_ids, err, stop);

  int64_t parent = recorded_children.empty() ? run->parent_id.value_or(0) : run_id;
  std::string aggregate_errors;
  if (parent != 0) {
    // The aggregates see every child, so they run again once all have finished.
    auto parent_run = store.get_run(parent);
    if (!stop.load() && sweep_status(store, parent) == RunStatus::kFinished && parent_run)
      aggregate_errors = rerun_recorded_aggregates(*parent_run, opts, registry, store, err, stop);
    finish_sweep(store, parent, aggregate_errors, stop.load());
    if (!recorded_children.empty()) print_sweep_summary(out, store, parent, children, result);
  }
  if (recorded_children.empty()) print_single_summary(out, store, children.front(), result);
  int code = exit_code_of(result.status);
  return {code == 0 && !aggregate_errors.empty() ? 1 : code, run_id};
}

}  // namespace flowlab::cli
