// `flowlab store info|copy|import`: which results store a command uses, moving runs between
// stores, and loading metric batches a writer spooled while the store's server was away.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/error.h"
#include "common/text.h"
#include "experiments/cli/app.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/table.h"
#include "tracking/read_only_db.h"
#include "tracking/spool.h"
#include "tracking/store.h"
#include "tracking/store_copy.h"

namespace flowlab::cli {
namespace {

const char* const kStoreHelp = R"(
A results store is a SQLite file (the default: WORKSPACE/runs.db) or a PostgreSQL database that
many machines write at once. Every command picks it from --store URI, else $FLOWLAB_STORE, else
the workspace. URIs follow SQLAlchemy (as MLflow's --backend-store-uri does):
  sqlite:///relative/runs.db     sqlite:////absolute/runs.db     a plain path: a SQLite file
  postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAM=VALUE...]   (postgres:// too; every libpq
      parameter works: ?host=/run/postgresql for a Unix socket, sslmode=require, ...)
A PostgreSQL store is created (at the latest schema) by the first command that writes to it.

Examples:
  flowlab store info --store postgresql://ana@db.lab/results
  flowlab store copy .flowlab/runs.db postgresql://ana@db.lab/results      a laptop's runs
  flowlab store copy postgresql://ana@db.lab/results sqlite:///mine.db 12  sweep 12, offline
  flowlab store import .flowlab/spool/metrics-run12-0a1b2c3d4e5f6071.jsonl)";

struct CopyArgs {
  std::string from, to;
  std::vector<std::string> runs;
};

void store_info(const tracking::StoreLocation& where, Format format, std::ostream& out) {
  const tracking::Store store(where, tracking::Store::Access::kReadOnly);
  const tracking::ReadOnlyDb db(where);
  Table t;
  t.columns = {"store", "backend", "schema", "runs", "deleted", "metric_rows"};
  t.numeric = {false, false, true, true, true, true};
  const auto count = [&](const std::string& sql) {
    return std::to_string(tracking::as_int(db.execute(sql).rows.at(0).at(0)));
  };
  t.add_row({where.display(), where.is_sqlite() ? "sqlite" : "postgresql",
             std::to_string(store.schema_version()), count("SELECT COUNT(*) FROM runs"),
             store.schema_version() >= 5
                 ? count("SELECT COUNT(*) FROM runs WHERE deleted_at IS NOT NULL")
                 : "0",
             count("SELECT COUNT(*) FROM metrics")});
  print(t, format, out);
}

}  // namespace

void add_store_commands(CLI::App& app, GlobalOptions& global) {
  auto* store = app.add_subcommand(
      "store", "the results store: which one (info), copying runs between stores, spool import");
  store->require_subcommand(1);
  store->footer(kStoreHelp);

  auto info_format = std::make_shared<std::string>("table");
  auto* info = store->add_subcommand("info",
                                     "the store this command line uses: backend, schema, "
                                     "counts");
  info->add_option("--format", *info_format, "table, csv or json");
  info->callback([=, &global] {
    store_info(existing_results_store(global.workspace()), parse_format(*info_format), std::cout);
  });

  auto args = std::make_shared<CopyArgs>();
  auto* copy = store->add_subcommand(
      "copy", "copy runs (with metrics, params, tags, node and artifact records) from SRC to DST");
  copy->add_option("SRC", args->from, "store URI or SQLite path to copy from")->required();
  copy->add_option("DST", args->to, "store URI or SQLite path to copy into (created if needed)")
      ->required();
  copy->add_option("RUN", args->runs,
                   "run ids in SRC (a sweep's parent brings its children); none: every run");
  copy->footer(R"(
Ids are issued by DST (a child's parent is remapped); each run keeps its uuid, times, status and
deletion, and a run DST already has (same uuid) is left alone, so copying twice adds nothing.
Each run is copied in one transaction. The artifacts' files are not moved: their records keep
their paths, which should point into a cache_dir both machines see.)");
  copy->callback([=] {
    const auto from = tracking::StoreLocation::parse(args->from);
    const auto to = tracking::StoreLocation::parse(args->to);
    if (from.is_sqlite() && !std::filesystem::exists(from.sqlite_path))
      throw ConfigError(SourceLocation{"command line"}, "SRC",
                        fmt::format("no results database at {}", from.sqlite_path.string()));
    std::vector<int64_t> ids;
    for (const auto& r : args->runs) {
      const auto id = parse_int64(r);
      if (!id || *id <= 0)
        throw ConfigError(SourceLocation{"command line"}, "RUN",
                          fmt::format("expected a run id (a positive integer), got \"{}\"", r));
      ids.push_back(*id);
    }
    const tracking::Store src(from, tracking::Store::Access::kReadOnly);
    for (int64_t id : ids)
      if (!src.get_run(id))
        throw ConfigError(SourceLocation{"command line"}, "RUN",
                          fmt::format("no run with id {} in {}", id, from.display()));
    tracking::Store dst(to);
    const auto result = tracking::copy_runs(src, dst, ids, [](size_t done, size_t total) {
      if (done % 100 == 0 || done == total)
        std::cerr << fmt::format("\rcopied {}/{} runs", done, total) << std::flush;
    });
    std::cerr << "\n";
    std::cout << fmt::format("{} run(s) copied ({} metric rows), {} already in {}\n", result.copied,
                             result.metric_rows, result.present, to.display());
  });

  auto files = std::make_shared<std::vector<std::string>>();
  auto* import = store->add_subcommand(
      "import", "load spooled metric batches (written while the store's server was away)");
  import->add_option("FILE", *files, "spool files (WORKSPACE/spool/metrics-*.jsonl)")
      ->required()
      ->check(CLI::ExistingFile);
  import->footer(R"(
A batch goes into the store given by --store / $FLOWLAB_STORE / the workspace, which must hold its
run. Each batch carries the token it was first sent with, so a batch that did arrive after all,
or a file imported twice, adds nothing.)");
  import->callback([=, &global] {
    tracking::Store store(existing_results_store(global.workspace()));
  for (const auto& f : *files) {
    const auto r = tracking::import_spool(store, f);
    std::cout << fmt::format("{}: {} batch(es), {} metric rows loaded; {} already there\n", f,
                             r.batches, r.rows, r.skipped_batches);
  }
});
}  // namespace flowlab::cli

}  // namespace flowlab::cli
