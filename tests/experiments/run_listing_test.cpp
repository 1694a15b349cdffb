// `flowlab runs` (folded sweeps, --parent/--status/--experiment/--all), `show last` after a
// sweep, runs named by uuid, `query --columns` patterns, the note an empty query gives, and
// `compare --format json` keyed by run id: over the store of tests/support/ui_fixture.h, whose
// runs are known by construction.
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "experiments/cli/commands.h"
#include "experiments/cli/query_commands.h"
#include "experiments/cli/table.h"
#include "tests/support/ui_fixture.h"
#include "tracking/query.h"
#include "tracking/read_only_db.h"
#include "tracking/reader.h"
#include "tracking/store.h"

using flowlab::testing::UiFixture;
using namespace flowlab::cli;
namespace tracking = flowlab::tracking;

namespace {

// The first column of a CSV listing (the run ids), in order.
std::vector<int64_t> listed(const UiFixture& f, RunListing listing) {
  std::ostringstream out;
  list_runs(f.workspace, listing, Format::kCsv, out);
  std::istringstream in(out.str());
  std::string line;
  std::getline(in, line);  // heading
  std::vector<int64_t> ids;
  while (std::getline(in, line)) ids.push_back(std::stoll(line.substr(0, line.find(','))));
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_run_listing)

BOOST_FIXTURE_TEST_CASE(runs_folds_sweeps_and_filters, UiFixture) {
  RunListing l;
  BOOST_TEST(listed(*this, l) == (std::vector<int64_t>{bad_utf8, stale, hostile, sweep, baseline}),
             boost::test_tools::per_element());
  std::ostringstream table;
  list_runs(workspace, l, Format::kTable, table);
  BOOST_TEST(table.str().find("6 (6 FINISHED)") != std::string::npos);  // the sweep's runs
  BOOST_TEST(table.str().find("--parent ID") != std::string::npos);

  l.parent = sweep;
  std::vector<int64_t> kids(children.rbegin(), children.rend());  // newest first
  BOOST_TEST(listed(*this, l) == kids, boost::test_tools::per_element());
  l = RunListing{};
  l.status = "FAILED";
  BOOST_TEST(listed(*this, l) == std::vector<int64_t>{hostile}, boost::test_tools::per_element());
  l.status = "STALE";
  BOOST_TEST(listed(*this, l) == std::vector<int64_t>{stale}, boost::test_tools::per_element());
  l = RunListing{};
  l.all = true;
  l.experiment = "fmnist";
  BOOST_TEST(listed(*this, l).size() == 11u);
  l.experiment = "it's not there";
  BOOST_TEST(listed(*this, l).empty());
  l = RunListing{};
  l.limit = 2;
  BOOST_TEST(listed(*this, l) == (std::vector<int64_t>{bad_utf8, stale}),
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(last_is_what_the_last_command_made_and_uuids_name_runs, UiFixture) {
  tracking::Store s(store);
  BOOST_TEST(resolve_run(s, "last") == bad_utf8);
  // A sweep started after it: its newest run is a child, and `last` is the sweep.
  tracking::RunStart p;
  p.experiment = "e", p.name = tracking::sweep_parent_name("again");
  const int64_t parent = s.begin_run(p);
  tracking::RunStart c = p;
  c.name = "child", c.parent_id = parent;
  s.begin_run(c);
  s.begin_run(c);
  BOOST_TEST(resolve_run(s, "last") == parent);
  BOOST_TEST(resolve_run(s, s.get_run(baseline)->uuid) == baseline);
  BOOST_CHECK_THROW(resolve_run(s, "no-such-uuid"), flowlab::ConfigError);
}

BOOST_FIXTURE_TEST_CASE(column_patterns_and_unknown_names, UiFixture) {
  const tracking::ReadOnlyDb db(store);
  BOOST_TEST(tracking::expand_column_patterns(db, "id, params.data.*,metrics.eval.cert*") ==
             "id,params.data.limit_train,metrics.eval.`certified_accuracy@0`,"
             "metrics.eval.`certified_accuracy@0.5`,metrics.eval.`certified_accuracy@1`");
  BOOST_TEST(tracking::expand_column_patterns(db, "params.nothing*") == "");
  const auto notes = tracking::unknown_field_notes(
      db, "metrics.eval.acuracy > 0.5 and params.data.limit_trian = 10 and params.seed = 1");
  BOOST_TEST_REQUIRE(notes.size() == 2u);
  BOOST_TEST(notes[0] == "no run has metrics.eval.acuracy; did you mean metrics.eval.accuracy?");
  BOOST_TEST(notes[1] ==
             "no run has params.data.limit_trian; did you mean params.data.limit_train?");
  BOOST_TEST(
      tracking::unknown_field_notes(db, "metrics.accuracy > 0 and status = 'FAILED'").empty());
}

BOOST_FIXTURE_TEST_CASE(compare_json_is_keyed_by_run_id, UiFixture) {
  const auto j = compare_json(compare_table(
      store, {std::to_string(children[0]), std::to_string(children[1])}, true, Format::kJson));
  const std::string a = std::to_string(children[0]), b = std::to_string(children[1]);
  BOOST_TEST(j["runs"][1]["id"].get<int64_t>() == children[1]);
  BOOST_TEST(j["params"]["seed"][a] == "0");
  BOOST_TEST(j["params"]["seed"][b] == "1");
  BOOST_TEST(j["metrics"]["eval.accuracy"][b].get<double>() == 0.5 + 0.1 * 2 + 0.01,
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(tables_fit_the_terminal_and_numbers_are_never_cut) {
  Table t{{"id", "name", "overrides", "accuracy"}, {}, {true, false, false, true}};
  t.add_row({"12", "a-rather-long-run-name-of-forty-chars-xx", "train.lr=0.1 model=cnn seed=3",
             "0.9123"});
  t.add_row({"1234567", "short", "", "0.5"});
  t.add_row({"8", "画像分類の実験、学習率を変える長い名前", "模型=卷积网络", "0.7"});  // wide
  std::ostringstream fitted, full;
  print_table(t, fitted, 50);
  print_table(t, full, 0);
  std::istringstream lines(fitted.str());
  std::string line;
  while (std::getline(lines, line)) BOOST_TEST(flowlab::display_width(line) <= 50u, line);
  BOOST_TEST(fitted.str().find("1234567") != std::string::npos);  // numbers whole
  BOOST_TEST(fitted.str().find("0.9123") != std::string::npos);
  BOOST_TEST(fitted.str().find("…") != std::string::npos);  // text cut, marked
  BOOST_TEST(full.str().find("a-rather-long-run-name-of-forty-chars-xx") != std::string::npos);
  // Wide characters count two columns each: every row of the full table is as wide as the header
  // (aligned), and so is every row of the fitted one.
  std::istringstream full_lines(full.str()), fitted_lines(fitted.str());
  std::vector<size_t> full_widths, fitted_widths;
  while (std::getline(full_lines, line)) full_widths.push_back(flowlab::display_width(line));
  while (std::getline(fitted_lines, line)) fitted_widths.push_back(flowlab::display_width(line));
  for (size_t w : full_widths) BOOST_TEST(w == full_widths.front());
  for (size_t w : fitted_widths) BOOST_TEST(w == fitted_widths.front());
  // Widths: the widest text column gives first, none below 8; numbers keep theirs.
  BOOST_TEST(fit_widths({7, 40, 29, 8}, {true, false, false, true}, 50) ==
                 (std::vector<size_t>{7, 14, 15, 8}),
             boost::test_tools::per_element());
  BOOST_TEST(fit_widths({7, 40, 29, 8}, {true, false, false, true}, 10) ==
                 (std::vector<size_t>{7, 8, 8, 8}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
