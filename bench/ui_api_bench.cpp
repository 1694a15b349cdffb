// How fast the dashboard's runs API answers over a large store: a filtered, sorted page of 100
// runs out of 100,000 runs holding 10 M metric rows. Side by side for each request:
//   http   GET /api/runs over loopback to flowlab's server (what the page waits for)
//   api    the same call in process (ui::Api::runs: page query, total count, STALE check,
//          sweep children, the page's params and final metrics)
//   sql    the peer: only the page's compiled SQL on a read-only connection (the floor any API
//          over this database pays: sqlite3's own time)
// Usage: ui_api_bench STORE.db [runs=100000] [rows_per_run=100]
// The store is generated once (a few minutes) and reused when it exists.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/store.h"
#include "ui/api.h"
#include "ui/server.h"

namespace fs = std::filesystem;
using namespace flowlab;

namespace {

double median_ms(const std::function<void()>& f, int repeats = 9) {
  std::vector<double> ms;
  f();  // warm
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// 100-run sweeps (a parent and its children), each child with params, a loss curve and final
// metrics: rows_per_run metric rows per run in all.
void generate(const fs::path& path, int runs, int rows_per_run) {
  tracking::Store store(path);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t parent = 0;
  for (int i = 0; i < runs; ++i) {
    tracking::RunStart s;
    s.experiment = fmt::format("exp{}", i % 20);
    if (i % 100 == 0) {
      s.name = fmt::format("sweep{} (sweep)", i / 100);
      parent = store.begin_run(s);
      store.finish_run(parent, tracking::RunStatus::kFinished);
      continue;
    }
    s.name = fmt::format("run{}", i);
    s.parent_id = parent;
    const int64_t id = store.begin_run(s);
    const double lr = std::pow(10.0, -1 - (i % 4));
    store.log_params(id, {{"train.lr", fmt::format("{}", lr)},
                          {"train.model", i % 3 == 0   ? "cnn"
                                          : i % 3 == 1 ? "lcn"
                                                       : "fcn"},
                          {"seed", std::to_string(i % 5)},
                          {"data.limit_train", std::to_string(100 << (i % 8))}});
    std::vector<tracking::MetricRow> rows;
    const double accuracy = 0.5 + 0.45 * u(rng);
    for (int step = 0; step < rows_per_run - 2; ++step)
      rows.push_back({"train", "loss", step, 2.0 / (1 + step) + 0.01 * u(rng), 0});
    rows.push_back({"eval", "accuracy", 0, accuracy, 0});
    rows.push_back({"eval", "loss", 0, 1 - accuracy, 0});
    store.log_metrics(id, rows);
    store.finish_run(id,
                     i % 50 == 7 ? tracking::RunStatus::kFailed : tracking::RunStatus::kFinished);
    if (i % 10000 == 9999)
      std::fprintf(stderr, "  %d runs in %.0f s\n", i + 1,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ui_api_bench STORE.db [runs=100000] [rows_per_run=100]\n");
    return 2;
  }
  const fs::path path = argv[1];
  const int runs = argc > 2 ? std::stoi(argv[2]) : 100000;
  const int rows_per_run = argc > 3 ? std::stoi(argv[3]) : 100;
  if (!fs::exists(path)) {
    std::fprintf(stderr, "generating %d runs x %d metric rows in %s\n", runs, rows_per_run,
                 path.c_str());
    generate(path, runs, rows_per_run);
  }
  sqlite3* raw = nullptr;
  sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  auto count = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw, sql, -1, &st, nullptr);
    sqlite3_step(st);
    const int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  std::printf("store: %s, %lld runs, %lld metric rows\n", path.c_str(),
              static_cast<long long>(count("SELECT count(*) FROM runs")),
              static_cast<long long>(count("SELECT count(*) FROM metrics")));

  ui::Api api(ui::ApiOptions{path, {path.parent_path()}});
  const tracking::ReadOnlyDb db(path);
  ui::Server server(api, ui::ServerOptions{"127.0.0.1", 0});
  const int port = server.bind();
  std::thread serving([&] { server.serve(); });
  httplib::Client client("127.0.0.1", port);

  struct Case {
    const char* what;
    ui::Params params;
  };
  const std::vector<Case> cases{
      {"first page, sweeps folded", {}},
      {"filter on a param, sort by a metric",
       {{"filter", "params.train.model = 'cnn' and params.train.lr < 0.05"},
        {"sort", "-metrics.eval.accuracy"}}},
      {"filter on a metric, sort by a param, page 100",
       {{"filter", "metrics.eval.accuracy > 0.9"},
        {"sort", "params.data.limit_train"},
        {"offset", "9900"}}},
      {"filter on attributes, sort by name", {{"filter", "status = 'FAILED'"}, {"sort", "name"}}},
      {"a sweep's 99 children", {{"parent", "1"}, {"sort", "-metrics.eval.accuracy"}}},
  };
  std::printf("\n%-46s %8s %8s %8s %9s %8s\n", "runs API, 100 rows per page", "http ms", "api ms",
              "sql ms", "http/sql", "total");
  for (const auto& c : cases) {
    std::string url = "/api/runs?limit=100";
    for (const auto& [k, v] : c.params)
      url += "&" + k + "=" + httplib::detail::encode_query_param(v);
    auto probe = client.Get(url);
    if (!probe || probe->status != 200) {
      std::fprintf(stderr, "%s: %s\n", c.what, probe ? probe->body.c_str() : "no answer");
      return 1;
    }
    const auto total = nlohmann::json::parse(probe->body)["total"].get<int64_t>();
    const double http = median_ms([&] { client.Get(url); });
    const double in_process = median_ms([&] { api.runs(c.params); });
    // The peer: the page query alone (the one compile_query makes for this request).
    tracking::RunQuery q;
    const std::string filter = c.params.count("filter") ? c.params.at("filter") : "";
    const std::string scope = c.params.count("parent") ? "parent_id = " + c.params.at("parent")
                              : filter.empty()         ? "parent_id IS NULL"
                                                       : "";
    q.filter = scope.empty() ? filter : filter.empty() ? scope : "(" + filter + ") AND " + scope;
    q.columns = "id,uuid,experiment,name,status,start_time,end_time,parent_id";
    if (c.params.count("sort")) q.sort = {c.params.at("sort")};
    q.limit = 100;
    q.offset = c.params.count("offset") ? std::stoll(c.params.at("offset")) : 0;
    const auto compiled = tracking::compile_query(q);
    const double sql = median_ms([&] { db.execute(compiled.sql, compiled.binds); });
    std::printf("%-46s %8.1f %8.1f %8.1f %9.2f %8lld\n", c.what, http, in_process, sql, http / sql,
                static_cast<long long>(total));
  }
  server.stop();
  serving.join();
  sqlite3_close(raw);
  return 0;
}
