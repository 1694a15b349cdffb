// The shipped quick certification experiment end to end: its recorded metrics agree with the
// per-image certificates it wrote, and with what randomized smoothing allows.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "ops/certify/stats.h"
#include "tests/support/run_fixture.h"
#include "tracking/store.h"

BOOST_AUTO_TEST_SUITE(experiments_certify)

BOOST_AUTO_TEST_CASE(quick_certification_run_is_consistent) {
  flowlab::testing::RunFixture f;
  auto r = f.run((flowlab::testing::source_dir() / "experiments/certify_quick.yaml").string());
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  flowlab::tracking::Store store(f.db());
  std::map<std::string, double> m;
  for (const auto& row : store.final_metrics(r.outcome.run_id))
    if (row.node == "certify") m[row.key] = row.value;
  BOOST_TEST(m["images"] == 20);
  const double cap = flowlab::ops::certify::max_certifiable_radius(0.25, 1000, 0.001);
  BOOST_TEST(m["max_radius"] == cap, boost::test_tools::tolerance(1e-12));
  // Certified accuracy never rises with the radius and is zero beyond the cap.
  double previous = 1.0;
  for (const char* r : {"0", "0.25", "0.5", "0.75", "1", "1.5", "2"}) {
    double acc = m.at(std::string("certified_accuracy@") + r);
    BOOST_TEST(acc <= previous);
    if (std::stod(r) > cap) BOOST_TEST(acc == 0.0);
    previous = acc;
  }
  BOOST_TEST(m["certified_accuracy@0"] > 0.3);  // a noise-trained model, far above chance
  BOOST_TEST(m["certified_accuracy@0"] + m["abstain_rate"] <= 1.0 + 1e-12);

  // Recompute ACR and certified accuracy from the per-image CSV the node wrote.
  std::string csv;
  for (const auto& a : store.artifacts(r.outcome.run_id))
    if (a.kind == "certification") csv = a.path;
  BOOST_REQUIRE(!csv.empty());
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  double acr = 0;
  int rows = 0, correct_at_quarter = 0;
  while (std::getline(in, line)) {
    std::stringstream s(line);
    std::string f[8];
    for (auto& x : f) std::getline(s, x, ',');
    double radius = std::stod(f[3]);
    bool correct = f[4] == "1";
    BOOST_TEST(radius <= cap + 1e-12);
    acr += correct ? radius : 0.0;
    correct_at_quarter += correct && radius >= 0.25;
    ++rows;
  }
  BOOST_TEST(rows == 20);
  BOOST_TEST(m["acr"] == acr / rows, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(m["certified_accuracy@0.25"] == correct_at_quarter / 20.0,
             boost::test_tools::tolerance(1e-12));
}

namespace {
// The certification CSV of a run's certify node, without the timing column: one line per image.
std::vector<std::string> certificates(const flowlab::tracking::Store& store, int64_t run) {
  std::string csv;
  for (const auto& a : store.artifacts(run))
    if (a.kind == "certification") csv = a.path;
  std::ifstream in(csv);
  std::vector<std::string> rows;
  std::string line;
  while (std::getline(in, line)) rows.push_back(line.substr(0, line.rfind(',')));
  return rows;
}
}  // namespace

// The noise of image i comes from its own generator, drawn in one order whatever the batching,
// so the certificates must not depend on how many noisy copies go through the model at once.
BOOST_AUTO_TEST_CASE(certificates_do_not_depend_on_the_batch_size) {
  flowlab::testing::RunFixture f;
  const std::string spec =
      (flowlab::testing::source_dir() / "experiments/certify_quick.yaml").string();
  auto whole = f.run(spec);  // batch_size 1000: each image's n = 1000 copies in one batch
  BOOST_REQUIRE_EQUAL(whole.outcome.exit_code, 0);
  auto odd = f.run(spec, {"nodes.certify.params.batch_size=37"});  // 27 batches, the last short
  BOOST_REQUIRE_EQUAL(odd.outcome.exit_code, 0);
  flowlab::tracking::Store store(f.db());
  for (const auto& n : store.node_executions(odd.outcome.run_id))
    if (n.node == "certify") BOOST_TEST(n.status == "FINISHED");  // computed again, not cached
  const auto a = certificates(store, whole.outcome.run_id);
  const auto b = certificates(store, odd.outcome.run_id);
  BOOST_TEST(a.size() == 22u);  // two header lines and 20 images
  BOOST_TEST(a == b, boost::test_tools::per_element());
}

// The prepared inference path (ops/models/inference_plan.h) against the eager forward on the
// shipped quick experiment: the same predictions and votes, radii within 1e-4 (votes near the
// boundary could differ by reassociation; a count that differs by one moves p_lower only a bit).
BOOST_AUTO_TEST_CASE(the_prepared_inference_path_certifies_what_the_eager_forward_does) {
  const std::string spec =
      (flowlab::testing::source_dir() / "experiments/certify_quick.yaml").string();
  flowlab::testing::RunFixture fast_run, eager_run;
  auto fast = fast_run.run(spec);
  setenv("FLOWLAB_EAGER_INFERENCE", "1", 1);
  auto eager = eager_run.run(spec);
  unsetenv("FLOWLAB_EAGER_INFERENCE");
  BOOST_REQUIRE_EQUAL(fast.outcome.exit_code, 0);
  BOOST_REQUIRE_EQUAL(eager.outcome.exit_code, 0);
  const auto a = certificates(flowlab::tracking::Store(fast_run.db()), fast.outcome.run_id);
  const auto b = certificates(flowlab::tracking::Store(eager_run.db()), eager.outcome.run_id);
  BOOST_REQUIRE_EQUAL(a.size(), b.size());
  BOOST_REQUIRE_EQUAL(a.size(), 22u);
  for (size_t i = 2; i < a.size(); ++i) {
    std::vector<std::string> x, y;
    std::stringstream sa(a[i]), sb(b[i]);
    for (std::string field; std::getline(sa, field, ',');) x.push_back(field);
    for (std::string field; std::getline(sb, field, ',');) y.push_back(field);
    BOOST_REQUIRE_EQUAL(x.size(), 7u);  // index,label,prediction,radius,correct,count,p_lower
    BOOST_TEST(x[0] == y[0]);
    BOOST_TEST(x[2] == y[2], "image " << x[0] << ": the same prediction");
    BOOST_TEST(x[4] == y[4]);
    BOOST_TEST(std::abs(std::stoi(x[5]) - std::stoi(y[5])) <= 2, "image " << x[0] << " votes");
    BOOST_TEST(std::abs(std::stod(x[3]) - std::stod(y[3])) <= 1e-4, "image " << x[0] << " radius");
  }
}

BOOST_AUTO_TEST_CASE(cohen_lvm_and_dual_certify_the_same_images_side_by_side) {
  flowlab::testing::RunFixture f;
  auto r =
      f.run((flowlab::testing::source_dir() / "experiments/certify_compare_quick.yaml").string());
  BOOST_REQUIRE_EQUAL(r.outcome.exit_code, 0);
  flowlab::tracking::Store store(f.db());
  std::map<std::string, std::map<std::string, double>> m;  // node -> key -> value
  for (const auto& row : store.final_metrics(r.outcome.run_id)) m[row.node][row.key] = row.value;
  for (const char* node : {"cohen", "lvm", "lvm_fixed", "dual"}) {
    BOOST_TEST(m[node]["images"] == 20, node);
    BOOST_TEST(m[node].count("certified_accuracy@0.5") == 1u, node);
  }
  // LVM reports Cohen's certificate from its own samples; the seed and images are the same as the
  // cohen node's, so the samples are too, and so are the numbers.
  for (const char* key :
       {"acr", "abstain_rate", "certified_accuracy@0", "certified_accuracy@0.5"}) {
    BOOST_TEST(m["lvm"][std::string("cohen.") + key] == m["cohen"][key], key);
    BOOST_TEST(m["lvm_fixed"][std::string("cohen.") + key] == m["cohen"][key], key);
  }
  BOOST_TEST(m["lvm_fixed"]["calibration.images"] == 20);
  // Dual smoothing's cap: both branches at alpha/2 with all n votes.
  const double dual_cap =
      std::sqrt(2.0) * flowlab::ops::certify::max_certifiable_radius(0.25, 1000, 0.0005);
  BOOST_TEST(m["dual"]["max_radius"] == dual_cap, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(m["dual"]["acr"] <= dual_cap);
  // Every dual radius recomputed from its row of dual_branches.csv: the counts alone determine
  // it (Clopper-Pearson at alpha / 2 per branch, then (R_l + R_r) / sqrt(2)).
  std::string branches;
  for (const auto& a : store.artifacts(r.outcome.run_id))
    if (a.node == "dual" && a.kind == "dual_branches") branches = a.path;
  BOOST_REQUIRE(!branches.empty());
  std::ifstream in(branches);
  std::string line;
  std::getline(in, line), std::getline(in, line);  // "# sigma=...", header
  int rows = 0, certified = 0;
  namespace cs = flowlab::ops::certify;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    BOOST_REQUIRE_EQUAL(f.size(), 10u);
    ++rows;
    if (f[2] == "-1") continue;  // abstained
    ++certified;
    const double r_l =
        0.25 * cs::normal_quantile(cs::clopper_pearson_lower(std::stoll(f[4]), 1000, 0.0005));
    const double r_r =
        0.25 * cs::normal_quantile(cs::clopper_pearson_lower(std::stoll(f[5]), 1000, 0.0005));
    BOOST_TEST(std::stod(f[3]) == (r_l + r_r) / std::sqrt(2.0),
               boost::test_tools::tolerance(1e-12));
  }
  BOOST_TEST(rows == 20);
  BOOST_TEST(certified > 0);
}

BOOST_AUTO_TEST_SUITE_END()
