// The shipped quick specs reproduce, bit for bit, the metrics recorded before the model registry,
// the shared training loop and per-node threads landed (tests/data/recorded/*.metrics say how they
// were recorded), whatever the thread budget: a node's threads come from its op or its spec, not
// from how many siblings run beside it. Timing metrics are left out (they measure the machine).
#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/raw_db.h"
#include "tests/support/run_fixture.h"

namespace fs = std::filesystem;
namespace tt = boost::test_tools;
using flowlab::testing::RunFixture;
using flowlab::testing::source_dir;

namespace {

bool is_timing(const std::string& key) {
  return key == "samples_per_s" || key == "train_time_s" || key == "seconds_per_image";
}

std::vector<std::string> recorded(const std::string& spec) {
  std::ifstream in(source_dir() / "tests/data/recorded" / (spec + ".metrics"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') lines.push_back(line);
  return lines;
}

std::vector<std::string> measured(RunFixture& f, const std::string& spec, int threads) {
  auto r = f.run((source_dir() / "experiments" / (spec + ".yaml")).string(), {}, false, threads);
  BOOST_REQUIRE_MESSAGE(r.outcome.exit_code == 0, r.err);
  flowlab::testing::RawDb db(f.db());
  std::vector<std::string> lines;
  for (const auto& row : db.rows("SELECT node, key, step, printf('%.17g', value) FROM metrics "
                                 "ORDER BY node, key, step"))
    if (!is_timing(row[1])) lines.push_back(row[0] + "|" + row[1] + "|" + row[2] + "|" + row[3]);
  return lines;
}

void check(const std::string& spec, int threads) {
  RunFixture f;
  auto want = recorded(spec);
  BOOST_REQUIRE(!want.empty());
  auto got = measured(f, spec, threads);
  BOOST_TEST(got == want, tt::per_element());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(recorded_results)

BOOST_AUTO_TEST_CASE(dsd_quick_is_unchanged_at_any_budget) {
  check("dsd_quick", 1);
  check("dsd_quick", 2);
}

BOOST_AUTO_TEST_CASE(certify_quick_is_unchanged_at_any_budget) {
  // Before, a budget of 1 gave other numbers (each node got 1 thread instead of 2).
  check("certify_quick", 1);
  check("certify_quick", 2);
}

// tests/data/recorded/quickstart.metrics is checked the same way by hand (25 s of training is too
// long for every test run): FLOWLAB_HOME=ws flowlab run experiments/quickstart.yaml --threads 1,
// then the query in that file's header, gives the recorded lines.

BOOST_AUTO_TEST_SUITE_END()
