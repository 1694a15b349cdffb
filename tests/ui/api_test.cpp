// The dashboard's JSON API without HTTP (ui/api.h), over a store whose answers are known by
// construction (tests/support/ui_fixture.h).
#include "ui/api.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tests/support/ui_fixture.h"
#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
using flowlab::ConfigError;
using flowlab::testing::UiFixture;
using flowlab::testing::write_file;
using flowlab::ui::Api;
using flowlab::ui::ApiOptions;
using flowlab::ui::Response;
using json = nlohmann::json;

namespace {

struct ApiFixture : UiFixture {
  Api api{ApiOptions{store, {workspace}}};

  json runs(const flowlab::ui::Params& p) const {
    const Response r = api.runs(p);
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    return json::parse(r.body);
  }
  static std::vector<int64_t> ids(const json& page) {
    std::vector<int64_t> out;
    for (const auto& r : page["runs"]) out.push_back(r["id"].get<int64_t>());
    return out;
  }
};

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ui_api)

BOOST_FIXTURE_TEST_CASE(runs_fold_sweeps_and_page, ApiFixture) {
  // Folded: the top-level runs, newest first; the sweep counts its children by status.
  json page = runs({});
  BOOST_TEST(page["folded"].get<bool>());
  const std::vector<int64_t> top{bad_utf8, stale, hostile, sweep, baseline};
  BOOST_TEST(ids(page) == top, boost::test_tools::per_element());
  BOOST_TEST(page["total"].get<int64_t>() == 5);
  const auto& sweep_row = page["runs"][3];
  BOOST_TEST(sweep_row["children"]["FINISHED"].get<int>() == 6);
  BOOST_TEST(page["runs"][1]["status"].get<std::string>() == "STALE");

  // A sweep's children, and paging through them two at a time.
  page = runs({{"parent", std::to_string(sweep)}, {"sort", "id"}, {"limit", "2"}, {"offset", "2"}});
  BOOST_TEST(page["total"].get<int64_t>() == 6);
  BOOST_TEST(ids(page) == (std::vector<int64_t>{children[2], children[3]}),
             boost::test_tools::per_element());
  // Metrics and params come with each row, named node.key.
  const double expected = 0.5 + 0.1 * 3 + 0.0;  // limit 1000, seed 0
  BOOST_TEST(page["runs"][0]["metrics"]["eval.accuracy"].get<double>() == expected,
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(page["runs"][0]["params"]["data.limit_train"].get<std::string>() == "1000");
  // Params that vary among the page's runs are named first.
  BOOST_TEST(page["varying_params"].size() == 1u);  // seed (both have limit 1000)

  // Unfolded: every run.
  BOOST_TEST(runs({{"fold", "0"}})["total"].get<int64_t>() == 11);
}

BOOST_FIXTURE_TEST_CASE(runs_filter_is_flowlab_query, ApiFixture) {
  for (const std::string filter :
       {"metrics.eval.accuracy > 0.75", "params.data.limit_train = 1000 and seed = 1",
        "status = 'FAILED'", "name LIKE 'sizes%'", "metrics.eval.`certified_accuracy@0.5` < 0.6"}) {
    const json page = runs({{"filter", filter}});
    BOOST_TEST(!page["folded"].get<bool>());
    const auto expected = query_ids(filter);
    BOOST_TEST(!expected.empty(), filter);
    BOOST_TEST(ids(page) == expected, boost::test_tools::per_element());
    BOOST_TEST(page["total"].get<size_t>() == expected.size());
  }
  // Sorted by a metric, descending: the sweep's best child first (limit 10000, seed 1).
  const json best = runs({{"filter", "metrics.eval.accuracy > 0"},
                          {"sort", "-metrics.eval.accuracy"},
                          {"limit", "1"}});
  BOOST_TEST(ids(best) == std::vector<int64_t>{children[5]}, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(malformed_filters_answer_400_with_a_caret, ApiFixture) {
  auto answer = [&](const flowlab::ui::Params& p) {
    try {
      return api.runs(p);
    } catch (...) {
      return flowlab::ui::error_response_for(std::current_exception());
    }
  };
  // The caret message `flowlab query` prints, and where the mistake is in what the user typed.
  const std::string filter = "metrics.eval.accuracy > 0.5 and params.lr ~ 1";
  Response r = answer({{"filter", filter}});
  BOOST_TEST(r.status == 400);
  json body = json::parse(r.body);
  BOOST_TEST(body["position"].get<size_t>() == filter.find("~"));
  BOOST_TEST(body["error"].get<std::string>().find(filter) != std::string::npos);
  BOOST_TEST(body["error"].get<std::string>().find("^") != std::string::npos);
  // Also inside a sweep (the parent scope is added after the user's filter is checked).
  r = answer({{"filter", "name = "}, {"parent", std::to_string(sweep)}});
  BOOST_TEST(r.status == 400);
  BOOST_TEST(json::parse(r.body)["position"].get<size_t>() == 7u);
  // Well-formed but naming what no run has: an empty page that says so.
  const json empty = json::parse(answer({{"filter", "metrics.eval.acuracy > 0.5"}}).body);
  BOOST_TEST(empty["total"].get<int>() == 0);
  BOOST_TEST(empty["notes"][0].get<std::string>() ==
             "no run has metrics.eval.acuracy; did you mean metrics.eval.accuracy?");
  BOOST_TEST(answer({{"sort", "-metrics."}}).status == 400);
  BOOST_TEST(answer({{"limit", "100000"}}).status == 400);
  BOOST_TEST(answer({{"offset", "-1"}}).status == 400);
  BOOST_TEST(answer({{"parent", "x"}}).status == 400);
  BOOST_TEST(answer({{"view", "everything"}}).status == 400);
}

BOOST_FIXTURE_TEST_CASE(the_api_never_writes, ApiFixture) {
  const std::string before = file_text(workspace / "runs.db");
  // Filters that would be SQL injection if any value were pasted into SQL: each either fails to
  // parse (400) or matches as plain text; the store is byte for byte the same afterwards.
  for (const std::string filter :
       {"name = 'x'; DELETE FROM runs; --'", "name = 'x''); DROP TABLE runs; --'",
        "params.`x; DELETE FROM params` = '1'", "name = \"'); UPDATE runs SET name='z' --\""}) {
    try {
      const json page = runs({{"filter", filter}});
      BOOST_TEST(page["total"].get<int64_t>() == 0, filter);
    } catch (const ConfigError&) {
    }
  }
  for (int64_t id : {baseline, sweep, hostile, stale}) BOOST_TEST(api.run(id).status == 200);
  api.compare({{"runs", std::to_string(baseline) + "," + std::to_string(sweep)}});
  api.history_chart({{"runs", std::to_string(baseline)}, {"node", "train"}, {"key", "loss"}});
  BOOST_TEST(file_text(workspace / "runs.db") == before);
  BOOST_TEST(!fs::exists(workspace / "runs.db-journal"));
}

BOOST_FIXTURE_TEST_CASE(run_page_shows_what_was_recorded, ApiFixture) {
  Response r = api.run(baseline);
  BOOST_TEST_REQUIRE(r.status == 200);
  json d = json::parse(r.body);
  BOOST_TEST(d["run"]["name"].get<std::string>() == "baseline");
  BOOST_TEST(d["params"]["train.lr"].get<std::string>() == "0.1");
  BOOST_TEST(d["nodes"].size() == 2u);
  BOOST_TEST(d["nodes"][0]["cache_hit"].get<bool>());
  bool found_loss = false;
  for (const auto& m : d["metrics"])
    if (m["key"] == "loss") {
      found_loss = true;
      BOOST_TEST(m["points"].get<int>() == UiFixture::kLossSteps);
      BOOST_TEST(m["value"].get<double>() == 1.0 / UiFixture::kLossSteps);
    }
  BOOST_TEST(found_loss);
  BOOST_TEST(api.run(987654).status == 404);

  // The sweep parent lists its children; the hostile run's text comes back as it was stored.
  d = json::parse(api.run(sweep).body);
  BOOST_TEST(d["sweep_parent"].get<bool>());
  BOOST_TEST(d["children"].size() == 6u);
  d = json::parse(api.run(hostile).body);
  BOOST_TEST(d["run"]["name"].get<std::string>() == UiFixture::kHostileName);
  BOOST_TEST(d["run"]["status"].get<std::string>() == "FAILED");
  BOOST_TEST(d["tags"]["owner"].get<std::string>() == "<i>mallory</i>");

  // A name that is not UTF-8 does not break the page: the bad bytes become U+FFFD.
  d = json::parse(api.run(bad_utf8).body);
  BOOST_TEST(d["run"]["name"].get<std::string>() == "caf\xef\xbf\xbd \xef\xbf\xbd name");
}

BOOST_FIXTURE_TEST_CASE(artifacts_only_registered_regular_files_in_the_workspace, ApiFixture) {
  const Response ok = api.artifact(baseline, model.string());
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(ok.file == model);
  BOOST_TEST(ok.content_type == "application/octet-stream");  // downloaded, never rendered
  BOOST_TEST(ok.headers.at("Content-Disposition") == "attachment; filename=\"model.pt\"");
  // Registered, but a symbolic link out, a path through "..", a file outside the workspace, a
  // file under a linked directory: refused.
  for (const auto& p : {link_out, dotdot, outside, through_link})
    BOOST_TEST(api.artifact(baseline, p.string()).status == 403, p);
  // Never registered (or registered by another run): not found.
  for (const std::string p : {(workspace / "runs.db").string(), std::string("/etc/passwd"),
                              (workspace / "cache" / ".." / "runs.db").string(),
                              std::string("../runs.db"), std::string("")})
    BOOST_TEST(api.artifact(baseline, p).status == 404, p);
  BOOST_TEST(api.artifact(sweep, model.string()).status == 404);
  // The run page says which ones can be downloaded.
  const json d = json::parse(api.run(baseline).body);
  std::map<std::string, bool> available;
  for (const auto& a : d["artifacts"]) available[a["path"]] = a["available"];
  BOOST_TEST(available.at(model.string()));
  BOOST_TEST(!available.at(link_out.string()));
  BOOST_TEST(!available.at(outside.string()));
}

BOOST_FIXTURE_TEST_CASE(a_directory_swapped_for_a_link_never_redirects_a_download, ApiFixture) {
  // While downloads are asked for, another thread keeps swapping the artifact's directory for a
  // link to a directory outside the workspace holding a file of the same name. A download is
  // either refused or the real file, never the outside one: the API checks, opens, and checks
  // the opened file against the path again, and the body is read from that descriptor.
  const fs::path real = workspace / "cache" / "swapped", parked = workspace / "cache" / "parked";
  write_file(real / "a.pt", "inside");
  write_file(dir / "decoy" / "a.pt", "OUTSIDE");
  flowlab::tracking::Store(store).record_artifact(
      baseline, {"train", (real / "a.pt").string(), "model", "", 6});
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    std::error_code ec;
    while (!stop) {
      fs::rename(real, parked, ec);
      fs::create_directory_symlink(dir / "decoy", real, ec);
      fs::remove(real, ec);
      fs::rename(parked, real, ec);
      std::this_thread::sleep_for(std::chrono::microseconds(100));  // some downloads succeed
    }
  });
  int served = 0, refused = 0, leaked = 0;
  for (int i = 0; i < 3000; ++i) {
    const Response r = api.artifact(baseline, (real / "a.pt").string());
    if (r.status != 200) {
      ++refused;
      continue;
    }
    ++served;
    BOOST_TEST_REQUIRE(static_cast<bool>(r.file_descriptor));
    char buffer[16] = {};
    const ssize_t got = pread(*r.file_descriptor, buffer, sizeof buffer, 0);
    if (std::string(buffer, got > 0 ? static_cast<size_t>(got) : 0) != "inside") ++leaked;
  }
  stop = true;
  swapper.join();
  BOOST_TEST_MESSAGE(served << " served, " << refused << " refused while swapping");
  BOOST_TEST(leaked == 0);
  BOOST_TEST(served > 0);  // the swapping did not simply make every request fail
}

BOOST_FIXTURE_TEST_CASE(a_workspace_reached_through_a_link_still_serves, ApiFixture) {
  // A link above the root (a symlinked home directory) is fine; one below it is not.
  fs::create_directory_symlink(workspace, dir / "alias");
  const fs::path via = dir / "alias" / "cache" / "model.pt";
  flowlab::tracking::Store(store).record_artifact(baseline,
                                                  {"train", via.string(), "model", "", 14});
  const Api aliased(ApiOptions{store, {dir / "alias"}});
  BOOST_TEST(aliased.artifact(baseline, via.string()).status == 200);
  const fs::path link_via = dir / "alias" / "cache" / "link.pt";
  flowlab::tracking::Store(store).record_artifact(baseline,
                                                  {"train", link_via.string(), "model", "", 14});
  BOOST_TEST(aliased.artifact(baseline, link_via.string()).status == 403);
}

BOOST_FIXTURE_TEST_CASE(compare_is_keyed_by_run_id, ApiFixture) {
  const int64_t a = children[0], b = children[5];
  const json d =
      json::parse(api.compare({{"runs", std::to_string(a) + "," + std::to_string(b)}}).body);
  BOOST_TEST(d["runs"][0]["id"].get<int64_t>() == a);
  const std::string sa = std::to_string(a), sb = std::to_string(b);
  BOOST_TEST(d["params"]["data.limit_train"][sa] == "100");
  BOOST_TEST(d["params"]["data.limit_train"][sb] == "10000");
  BOOST_TEST(d["params"]["train.lr"][sa] == d["params"]["train.lr"][sb]);
  BOOST_TEST(d["metrics"]["eval.accuracy"][sb].get<double>() == 0.5 + 0.1 * 4 + 0.01,
             boost::test_tools::tolerance(1e-12));
  BOOST_TEST(d["series"].empty());  // one value per series: no curve to overlay
  const json e =
      json::parse(api.compare({{"runs", std::to_string(baseline) + "," + std::to_string(a)}}).body);
  BOOST_TEST_REQUIRE(e["series"].size() == 1u);  // baseline's train.loss
  BOOST_TEST(e["series"][0]["points"].get<int>() == UiFixture::kLossSteps);
}

BOOST_FIXTURE_TEST_CASE(charts_are_svg_with_every_point_or_its_extremes, ApiFixture) {
  // 1,000 points drawn whole; with max_points 100, 100 of them (first, last, bucket extremes).
  Response r =
      api.history_chart({{"runs", std::to_string(baseline)}, {"node", "train"}, {"key", "loss"}});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.content_type == "image/svg+xml");
  BOOST_TEST((r.body.find("<svg") != std::string::npos));
  BOOST_TEST(r.headers.at("X-Flowlab-Points") == "1000");
  r = api.history_chart({{"runs", std::to_string(baseline)},
                         {"node", "train"},
                         {"key", "loss"},
                         {"max_points", "100"},
                         {"smooth", "0.9"},
                         {"logy", "1"}});
  BOOST_TEST(r.headers.at("X-Flowlab-Points") == "100");
  BOOST_TEST(r.headers.at("X-Flowlab-Points-Total") == "1000");
  BOOST_TEST(r.body.find("100 of 1000 points drawn") != std::string::npos);
  BOOST_TEST(
      api.history_chart({{"runs", std::to_string(sweep)}, {"node", "train"}, {"key", "loss"}})
          .status == 404);

  // The sweep chart aggregates the two seeds of each size, as `flowlab plot` does.
  r = api.sweep_chart({{"parent", std::to_string(sweep)},
                       {"y", "eval.accuracy"},
                       {"x", "data.limit_train"},
                       {"logx", "1"}});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.headers.at("X-Flowlab-Runs") == "6");
  r = api.sweep_chart({{"parent", std::to_string(sweep)}, {"y", "eval.certified_accuracy@*"}});
  BOOST_TEST(r.status == 200);
  BOOST_CHECK_THROW(
      api.sweep_chart({{"parent", std::to_string(sweep)}, {"y", "eval.acuracy"}, {"x", "seed"}}),
      ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
