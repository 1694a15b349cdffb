#include "tests/support/ui_fixture.h"

#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/reader.h"
#include "tracking/store.h"

namespace flowlab::testing {
namespace fs = std::filesystem;
using namespace tracking;

namespace {

RunStart start(const std::string& experiment, const std::string& name) {
  RunStart r;
  r.experiment = experiment;
  r.name = name;
  r.host = "elsewhere";
  r.composed_yaml =
      "# composed\nnodes:\n  train:\n    op: train.classifier\n    params:\n      lr: 0.1\n";
  return r;
}

}  // namespace

UiFixture::UiFixture() {
  workspace = dir / "ws";
  fs::create_directories(workspace / "cache");
  store = StoreLocation(workspace / "runs.db");
  Store s(store);

  baseline = s.begin_run(start("fmnist", "baseline"));
  s.log_params(baseline, {{"train.lr", "0.1"}, {"train.model", "cnn"}});
  std::vector<MetricRow> loss;
  for (int step = 0; step < kLossSteps; ++step)
    loss.push_back({"train", "loss", step, 1.0 / (1 + step), 1000.0 + step});
  s.log_metrics(baseline, loss);
  s.log_metrics(baseline, {{"eval", "accuracy", 0, 0.81, 2000}});
  s.record_node(baseline,
                {"data", "dataset.fashion_mnist", "k1", "FINISHED", true, 100, 100.5, ""});
  s.record_node(baseline, {"train", "train.classifier", "k2", "FINISHED", false, 100.5, 160, ""});

  model = workspace / "cache" / "model.pt";
  model_bytes = std::string("weights\0\x01\x02 end", 14);
  write_file(model, model_bytes);
  secret = dir / "secret.txt";
  write_file(secret, "not for the browser");
  link_out = workspace / "cache" / "link.pt";
  fs::create_symlink(secret, link_out);
  dotdot = workspace / "cache" / ".." / "cache" / "model.pt";
  outside = secret;
  fs::create_directories(dir / "elsewhere");
  write_file(dir / "elsewhere" / "w.pt", "elsewhere");
  fs::create_directory_symlink(dir / "elsewhere", workspace / "linked_dir");
  through_link = workspace / "linked_dir" / "w.pt";
  for (const auto& p : {model, link_out, dotdot, outside, through_link})
    s.record_artifact(baseline, {"train", p.string(), "model", "", 14});
  s.finish_run(baseline, RunStatus::kFinished);

  sweep = s.begin_run(start("fmnist", sweep_parent_name("sizes")));
  s.log_params(sweep, {{"sweep", "data.limit_train=100,1000,10000 seed=0,1"}});
  for (int limit : {100, 1000, 10000})
    for (int seed : {0, 1}) {
      RunStart c = start("fmnist", fmt::format("sizes limit={} seed={}", limit, seed));
      c.parent_id = sweep;
      c.seed = seed;
      const int64_t id = s.begin_run(c);
      children.push_back(id);
      s.log_params(id, {{"data.limit_train", std::to_string(limit)},
                        {"seed", std::to_string(seed)},
                        {"train.lr", "0.1"}});
      const double accuracy = 0.5 + 0.1 * std::log10(limit) + 0.01 * seed;
      std::vector<MetricRow> rows{{"eval", "accuracy", 0, accuracy, 3000}};
      for (double r : {0.0, 0.5, 1.0})
        rows.push_back(
            {"eval", fmt::format("certified_accuracy@{}", r), 0, accuracy - r / 4, 3000});
      s.log_metrics(id, rows);
      s.finish_run(id, RunStatus::kFinished);
    }
  s.finish_run(sweep, RunStatus::kFinished);

  hostile = s.begin_run(start("fmnist", kHostileName));
  s.log_params(hostile, {{"note", "<img src=x onerror=\"document.title='pwned'\">"}});
  s.set_tags(hostile, {{"owner", "<i>mallory</i>"}});
  s.finish_run(hostile, RunStatus::kFailed, "<script>alert(1)</script> node train failed");

  // A pid no process has (above the kernel's pid_max) on this very host: the process is gone.
  RunStart st = start("fmnist", "stale");
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  st.host = host;
  st.pid = 1 << 30;
  stale = s.begin_run(st);

  bad_utf8 = s.begin_run(start("fmnist", "caf\xc3 \xff name"));
  s.finish_run(bad_utf8, RunStatus::kFinished);
}

std::vector<int64_t> UiFixture::query_ids(const std::string& filter) const {
  ReadOnlyDb db(store);
  RunQuery q;
  q.filter = filter;
  q.columns = "id";
  std::vector<int64_t> ids;
  for (const auto& row : run_query(db, q).rows) ids.push_back(std::get<int64_t>(row[0]));
  return ids;
}

}  // namespace flowlab::testing
