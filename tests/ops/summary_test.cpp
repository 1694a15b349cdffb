// analyze.summary: statistics against closed forms and hand-computed values, grouping, metric
// selection, failed and missing children, then the op end to end on a synthetic sweep.
#include "ops/analyze/summary.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "graph/sweep_results.h"
#include "tests/support/temp_dir.h"

namespace an = flowlab::ops::analyze;
namespace tt = boost::test_tools;

namespace {

flowlab::ChildResult child(int64_t id, std::map<std::string, std::string> params,
                           std::map<std::string, double> metrics, std::string status = "FINISHED") {
  flowlab::ChildResult c;
  c.run_id = id;
  c.status = std::move(status);
  c.params = std::move(params);
  c.metrics = std::move(metrics);
  return c;
}

const an::MetricStats& stats(const an::SweepSummary& s, const std::vector<std::string>& key,
                             const std::string& metric) {
  for (const auto& g : s.groups)
    if (g.key == key)
      for (const auto& m : g.metrics)
        if (m.metric == metric) return m;
  throw std::runtime_error("no row for " + metric);
}

struct Recorder : flowlab::RunObserver {
  std::map<std::string, double> metrics;
  std::map<std::string, std::filesystem::path> files;  // file name -> path
  void metric(const std::string&, const std::string& key, int64_t, double value) override {
    metrics[key] = value;
  }
  void progress(const std::string&, double, const std::string&) override {}
  void artifact_file(const std::string&, const std::filesystem::path& path,
                     const std::string&) override {
    files[path.filename().string()] = path;
  }
};

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_summary)

BOOST_AUTO_TEST_CASE(describe_matches_closed_forms) {
  // 1, 2, 3, 4: mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, sample variance 5/3,
  // sem^2 = (5/3) / 4 = 5/12.
  auto s = an::describe("m", {3, 1, 4, 2});
  BOOST_TEST(s.n == 4);
  BOOST_TEST(s.mean == 2.5, tt::tolerance(1e-15));
  BOOST_TEST(s.std == std::sqrt(5.0 / 3.0), tt::tolerance(1e-15));
  BOOST_TEST(s.sem == std::sqrt(5.0 / 12.0), tt::tolerance(1e-15));
  BOOST_TEST(s.min == 1.0);
  BOOST_TEST(s.max == 4.0);
  // Values close together far from zero: the two-pass std keeps them (1e9 + {0, 1, 2}: std 1).
  auto close = an::describe("m", {1e9, 1e9 + 1, 1e9 + 2});
  BOOST_TEST(close.std == 1.0, tt::tolerance(1e-12));
  // One value: no sample std (NaN, not 0); none: nothing is defined.
  auto one = an::describe("m", {0.7});
  BOOST_TEST(one.n == 1);
  BOOST_TEST(one.mean == 0.7);
  BOOST_TEST(one.min == 0.7);
  BOOST_TEST(one.max == 0.7);
  BOOST_TEST(std::isnan(one.std));
  BOOST_TEST(std::isnan(one.sem));
  auto none = an::describe("m", {});
  BOOST_TEST(none.n == 0);
  BOOST_TEST((std::isnan(none.mean) && std::isnan(none.min) && std::isnan(none.max) &&
              std::isnan(none.std)));
}

BOOST_AUTO_TEST_CASE(groups_by_two_params_in_numeric_order) {
  std::vector<flowlab::ChildResult> children;
  int64_t id = 1;
  // model x k x 3 seeds; accuracy = base(model) + k / 100 + seed / 1000, so each group's mean
  // adds 1/1000 (the mean seed) and its std is exactly the std of {0, 1, 2} / 1000 = 1/1000.
  for (std::string model : {"mlp", "cnn"})
    for (int k : {16, 2})
      for (int seed : {0, 1, 2})
        children.push_back(child(
            id++,
            {{"train.model", model}, {"data.k", std::to_string(k)}, {"seed", std::to_string(seed)}},
            {{"eval.accuracy", (model == "cnn" ? 0.8 : 0.7) + k / 100.0 + seed / 1000.0}}));
  auto s = an::summarize_sweep(children, {"train.model", "data.k"}, {});
  BOOST_TEST(s.metrics == (std::vector<std::string>{"eval.accuracy"}), tt::per_element());
  BOOST_REQUIRE(s.groups.size() == 4u);
  // Text values by text, numbers as numbers (2 before 16).
  BOOST_TEST(s.groups[0].key == (std::vector<std::string>{"cnn", "2"}), tt::per_element());
  BOOST_TEST(s.groups[1].key == (std::vector<std::string>{"cnn", "16"}), tt::per_element());
  BOOST_TEST(s.groups[2].key == (std::vector<std::string>{"mlp", "2"}), tt::per_element());
  BOOST_TEST(s.groups[3].key == (std::vector<std::string>{"mlp", "16"}), tt::per_element());
  const auto& cnn16 = stats(s, {"cnn", "16"}, "eval.accuracy");
  BOOST_TEST(cnn16.n == 3);
  BOOST_TEST(cnn16.mean == 0.961, tt::tolerance(1e-12));
  BOOST_TEST(cnn16.std == 0.001, tt::tolerance(1e-9));
  BOOST_TEST(cnn16.sem == 0.001 / std::sqrt(3.0), tt::tolerance(1e-9));
  BOOST_TEST(cnn16.min == 0.96, tt::tolerance(1e-12));
  BOOST_TEST(cnn16.max == 0.962, tt::tolerance(1e-12));
  BOOST_TEST(stats(s, {"mlp", "2"}, "eval.accuracy").mean == 0.721, tt::tolerance(1e-12));
  BOOST_TEST(an::group_label(s.by, s.groups[1].key) == "train.model=cnn,data.k=16");
  BOOST_TEST(an::group_label({}, {}) == "");

  // No `by`: one group of all 12 children.
  auto all = an::summarize_sweep(children, {}, {"eval.accuracy"});
  BOOST_REQUIRE(all.groups.size() == 1u);
  BOOST_TEST(all.groups[0].key.empty());
  BOOST_TEST(all.groups[0].metrics[0].n == 12);
  // (0.8 + 0.7) / 2 + (2 + 16) / 2 / 100 + 0.001.
  BOOST_TEST(all.groups[0].metrics[0].mean == 0.841, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(selects_metrics_by_name_and_glob) {
  std::vector<flowlab::ChildResult> children = {
      child(1, {{"seed", "0"}},
            {{"eval.accuracy", 0.9},
             {"eval.loss", 0.3},
             {"train.loss", 0.2},
             {"certify.acr@0.25", 0.5}}),
      child(2, {{"seed", "1"}}, {{"eval.accuracy", 0.8}, {"eval.loss", 0.5}, {"train.loss", 0.1}}),
  };
  // Globs match across dots; order: by the first pattern that matches, by name within a pattern.
  auto s = an::summarize_sweep(children, {}, {"train.loss", "eval.*"});
  BOOST_TEST(s.metrics == (std::vector<std::string>{"train.loss", "eval.accuracy", "eval.loss"}),
             tt::per_element());
  // A metric matched twice is summarized once.
  BOOST_TEST(an::summarize_sweep(children, {}, {"*.loss", "eval.*"}).metrics ==
                 (std::vector<std::string>{"eval.loss", "train.loss", "eval.accuracy"}),
             tt::per_element());
  BOOST_TEST(an::summarize_sweep(children, {}, {"certify.acr@*"}).metrics ==
                 (std::vector<std::string>{"certify.acr@0.25"}),
             tt::per_element());
  // No patterns: every metric, by name.
  BOOST_TEST(an::summarize_sweep(children, {}, {}).metrics.size() == 4u);
  BOOST_TEST(stats(s, {}, "eval.loss").mean == 0.4, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(failed_children_are_counted_not_used_and_missing_metrics_are_counted) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<flowlab::ChildResult> children = {
      child(1, {{"fold", "0"}}, {{"eval.accuracy", 1.0}, {"eval.loss", 0.1}}),
      child(2, {{"fold", "1"}}, {{"eval.accuracy", 2.0}, {"eval.loss", 0.3}}),
      child(3, {{"fold", "2"}}, {{"eval.accuracy", 3.0}}),                      // no loss logged
      child(4, {{"fold", "3"}}, {{"eval.accuracy", 4.0}, {"eval.loss", nan}}),  // NaN: missing
      // Failed and killed children's metrics (logged before they stopped) must not count.
      child(5, {{"fold", "4"}}, {{"eval.accuracy", 100.0}, {"eval.loss", 100.0}}, "FAILED"),
      child(6, {{"fold", "5"}}, {{"eval.accuracy", -100.0}}, "KILLED"),
  };
  auto s = an::summarize_sweep(children, {}, {"eval.*"});
  BOOST_REQUIRE(s.groups.size() == 1u);
  BOOST_TEST(s.groups[0].children == 6);
  BOOST_TEST(s.groups[0].failed == 2);
  const auto& acc = stats(s, {}, "eval.accuracy");
  BOOST_TEST(acc.n == 4);
  BOOST_TEST(acc.missing == 0);
  BOOST_TEST(acc.mean == 2.5, tt::tolerance(1e-15));
  BOOST_TEST(acc.std == std::sqrt(5.0 / 3.0), tt::tolerance(1e-15));
  BOOST_TEST(acc.max == 4.0);
  const auto& loss = stats(s, {}, "eval.loss");
  BOOST_TEST(loss.n == 2);
  BOOST_TEST(loss.missing == 2);
  BOOST_TEST(loss.mean == 0.2, tt::tolerance(1e-12));
  BOOST_TEST(loss.std == std::sqrt(0.02), tt::tolerance(1e-12));  // (0.01 + 0.01) / 1

  // A group whose every child failed: a row with n = 0 and nothing defined.
  children.push_back(child(7, {{"fold", "6"}, {"model", "b"}}, {{"eval.accuracy", 9.0}}, "FAILED"));
  for (auto& c : children)
    if (!c.params.count("model")) c.params["model"] = "a";
  auto by_model = an::summarize_sweep(children, {"model"}, {"eval.accuracy"});
  BOOST_REQUIRE(by_model.groups.size() == 2u);
  BOOST_TEST(by_model.groups[1].failed == 1);
  BOOST_TEST(stats(by_model, {"b"}, "eval.accuracy").n == 0);
  BOOST_TEST(std::isnan(stats(by_model, {"b"}, "eval.accuracy").mean));
}

BOOST_AUTO_TEST_CASE(a_param_or_metric_no_child_has_is_an_error) {
  std::vector<flowlab::ChildResult> children = {
      child(1, {{"train.model", "cnn"}}, {{"eval.accuracy", 0.9}}),
      child(2, {{"train.model", "mlp"}}, {{"eval.accuracy", 0.8}, {"eval.recall", 0.7}}, "FAILED"),
  };
  auto message = [&](const std::vector<std::string>& by, const std::vector<std::string>& metrics) {
    try {
      an::summarize_sweep(children, by, metrics);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string what = message({"train.modle"}, {});
  BOOST_TEST(what.find("no child run has param 'train.modle'") != std::string::npos, what);
  BOOST_TEST(what.find("did you mean 'train.model'") != std::string::npos, what);
  what = message({}, {"eval.acuracy"});
  BOOST_TEST(
      what.find("no finished child run has a metric matching 'eval.acuracy'") != std::string::npos,
      what);
  BOOST_TEST(what.find("they have: eval.accuracy") != std::string::npos, what);
  // Only a failed child has it: still nothing to summarize.
  what = message({}, {"eval.recall"});
  BOOST_TEST(what.find("matching 'eval.recall'") != std::string::npos, what);
}

BOOST_AUTO_TEST_CASE(op_logs_stats_on_the_parent_and_writes_csv_and_json) {
  auto results = std::make_shared<flowlab::SweepResults>();
  int64_t id = 1;
  // cnn: accuracy 1, 2, 3, 4 over four seeds; mlp: one finished seed (0.5) and one failed.
  for (int seed = 0; seed < 4; ++seed)
    results->children.push_back(child(id++,
                                      {{"train.model", "cnn"}, {"seed", std::to_string(seed)}},
                                      {{"eval.accuracy", seed + 1.0}, {"train.loss", 0.1}}));
  results->children.push_back(child(id++, {{"train.model", "mlp"}, {"seed", "0"}},
                                    {{"eval.accuracy", 0.5}, {"train.loss", 0.2}}));
  results->children.push_back(child(id++, {{"train.model", "mlp"}, {"seed", "1"}}, {}, "FAILED"));

  flowlab::Registry registry;
  an::register_summary(registry);
  const flowlab::OpDef* op = registry.find("analyze.summary");
  BOOST_REQUIRE(op);
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op->params) values[spec.name] = *spec.default_value;
  values["by"] = flowlab::ParamList{{std::string("train.model")}};
  values["metrics"] = flowlab::ParamList{{std::string("eval.*")}};  // train.loss is left out
  flowlab::Params params(values);
  flowlab::testing::TempDir dir;
  Recorder recorder;
  std::atomic<bool> stop{false};
  flowlab::OpContext ctx("summary", params, {{"runs", results}}, 1, dir.path(), recorder, stop);
  op->run(ctx);

  auto metric = [&](const std::string& key) {
    BOOST_REQUIRE_MESSAGE(recorder.metrics.count(key), key);
    return recorder.metrics.at(key);
  };
  BOOST_TEST(metric("train.model=cnn/eval.accuracy.mean") == 2.5, tt::tolerance(1e-15));
  BOOST_TEST(metric("train.model=cnn/eval.accuracy.std") == std::sqrt(5.0 / 3.0),
             tt::tolerance(1e-15));
  BOOST_TEST(metric("train.model=cnn/eval.accuracy.sem") == std::sqrt(5.0 / 12.0),
             tt::tolerance(1e-15));
  BOOST_TEST(metric("train.model=cnn/eval.accuracy.min") == 1.0);
  BOOST_TEST(metric("train.model=cnn/eval.accuracy.max") == 4.0);
  BOOST_TEST(metric("train.model=cnn/eval.accuracy.n") == 4.0);
  BOOST_TEST(metric("train.model=cnn/failed") == 0.0);
  BOOST_TEST(metric("train.model=mlp/eval.accuracy.mean") == 0.5);
  BOOST_TEST(metric("train.model=mlp/eval.accuracy.n") == 1.0);
  BOOST_TEST(metric("train.model=mlp/failed") == 1.0);
  // n = 1: no sample std or sem is logged (rather than a NaN or a 0 that claims no spread).
  BOOST_TEST(recorder.metrics.count("train.model=mlp/eval.accuracy.std") == 0u);
  BOOST_TEST(recorder.metrics.count("train.model=mlp/eval.accuracy.sem") == 0u);
  BOOST_TEST(recorder.metrics.count("train.model=cnn/train.loss.mean") == 0u);
  BOOST_TEST(recorder.metrics.size() == 6u + 1 + 4 + 1);

  BOOST_REQUIRE(recorder.files.count("summary.csv"));
  BOOST_REQUIRE(recorder.files.count("summary.json"));
  BOOST_TEST(read(recorder.files["summary.csv"]) ==
             "train.model,metric,n,missing,failed,mean,std,sem,min,max\n"
             "cnn,eval.accuracy,4,0,0,2.5," +
                 fmt::format("{},{}", std::sqrt(5.0 / 3.0), std::sqrt(5.0 / 12.0)) +
                 ",1,4\n"
                 "mlp,eval.accuracy,1,0,1,0.5,,,0.5,0.5\n");
  auto json = nlohmann::json::parse(read(recorder.files["summary.json"]));
  BOOST_TEST(json["by"] == nlohmann::json({"train.model"}));
  BOOST_TEST(json["metrics"] == nlohmann::json({"eval.accuracy"}));
  BOOST_REQUIRE(json["groups"].size() == 2u);
  BOOST_TEST(json["groups"][0]["params"]["train.model"] == "cnn");
  BOOST_TEST(json["groups"][0]["children"] == 4);
  BOOST_TEST(json["groups"][0]["metrics"]["eval.accuracy"]["mean"].get<double>() == 2.5);
  BOOST_TEST(json["groups"][1]["failed"] == 1);
  BOOST_TEST(json["groups"][1]["metrics"]["eval.accuracy"]["std"].is_null());
}

BOOST_AUTO_TEST_CASE(op_without_by_names_metrics_plainly) {
  auto results = std::make_shared<flowlab::SweepResults>();
  results->children.push_back(child(1, {{"seed", "0"}}, {{"eval.accuracy", 0.25}}));
  results->children.push_back(child(2, {{"seed", "1"}}, {{"eval.accuracy", 0.75}}));
  flowlab::Registry registry;
  an::register_summary(registry);
  const flowlab::OpDef* op = registry.find("analyze.summary");
  std::map<std::string, flowlab::ParamValue> values;
  for (const auto& spec : op->params) values[spec.name] = *spec.default_value;
  flowlab::Params params(values);
  flowlab::testing::TempDir dir;
  Recorder recorder;
  std::atomic<bool> stop{false};
  flowlab::OpContext ctx("summary", params, {{"runs", results}}, 1, dir.path(), recorder, stop);
  op->run(ctx);
  BOOST_TEST(recorder.metrics.at("eval.accuracy.mean") == 0.5);
  BOOST_TEST(recorder.metrics.at("eval.accuracy.std") == std::sqrt(0.125), tt::tolerance(1e-15));
  BOOST_TEST(recorder.metrics.at("eval.accuracy.n") == 2.0);
  BOOST_TEST(recorder.metrics.at("failed") == 0.0);
  BOOST_TEST(read(recorder.files["summary.csv"]).rfind("metric,n,missing,failed,mean,", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
