// The query filter compiler (tracking/query.h: MLflow's search_runs filter language, compiled to
// SQL by filter_parser.cpp and sql_builder.cpp): the input is a filter (up to the first NUL byte),
// then optionally a column list and sort keys (the NUL-separated parts after it), as `flowlab
// query --filter F --columns C --sort S` takes them. A QuerySyntaxError (a ConfigError) is the
// expected answer to a malformed query; one that compiles must also run: its SQL is executed on a
// small results database (two runs with params, tags and metrics), where a StoreError would mean
// sql_builder.cpp wrote SQL that SQLite refuses.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "fuzz/fuzz_support.h"
#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/store.h"

namespace {

namespace fs = std::filesystem;
using namespace flowlab::tracking;

std::unique_ptr<ReadOnlyDb> results_db() {
  fs::path file = flowlab::fuzz::scratch_dir() / "runs.db";
  {
    Store store(file);
    for (int i = 0; i < 2; ++i) {
      RunStart start;
      start.experiment = "fuzz";
      start.name = "run" + std::to_string(i);
      start.seed = i;
      int64_t id = store.begin_run(start);
      store.log_params(id, {{"lr", i ? "0.01" : "1e-3"}, {"model", "cnn"}, {"a b", "x"}});
      store.set_tag(id, "note", "it's");
      store.log_metrics(id, {{"eval", "accuracy", 1, 0.5 + i, 0}, {"train", "loss", 2, 0.1, 0}});
      store.finish_run(id, i ? RunStatus::kFinished : RunStatus::kFailed, "");
    }
  }
  return std::make_unique<ReadOnlyDb>(file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<ReadOnlyDb> db = results_db();
  if (size > 4096) return 0;  // a command-line argument
  std::vector<std::string> parts = flowlab::fuzz::split_input(data, size, 3);
  RunQuery query;
  query.filter = parts[0];
  if (parts.size() > 1) query.columns = parts[1];
  if (parts.size() > 2) query.sort = {parts[2]};
  query.limit = 5;
  try {
    filter_fields(query.filter);
    run_query(*db, query);
  } catch (const flowlab::ConfigError&) {
  }
  return 0;
}
