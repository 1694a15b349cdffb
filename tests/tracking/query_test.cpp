// Tests for the search_runs filter language (tracking/query.h): every operator and field kind on a
// small hand-made database whose answers are known, precedence, quoting, error carets, injection
// attempts, and a 1,000-run database on which query results must equal hand-written SQL.
#include "tracking/query.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "tests/support/raw_db.h"
#include "tests/support/store_backends.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

namespace fs = std::filesystem;
namespace tt = boost::test_tools;
using flowlab::ConfigError;
using flowlab::testing::fresh_store;
using flowlab::testing::RawDb;
using flowlab::testing::RawStore;
using flowlab::testing::store_backends;
namespace data = boost::unit_test::data;
using flowlab::testing::TempDir;
using namespace flowlab::tracking;

namespace {

RunStart start(const std::string& experiment, const std::string& name) {
  RunStart r;
  r.experiment = experiment;
  r.name = name;
  r.host = "testhost";
  return r;
}

// Four runs whose answers are worked out by hand in the tests below.
//   1 alpha  mnist FINISHED  lr 0.1   batch 64   adam  eval.accuracy 0.5,0.8,0.91 (last 0.91)
//                            train.accuracy 0.95 (logged after eval), eval.class_accuracy.3 0.5
//                            tags note=baseline
//   2 beta   mnist FAILED    lr 0.01  batch 128  sgd   eval.accuracy 0.85, train.accuracy 0.80
//                            x = "a' OR 1=1 --"; tags note="Baseline v2"
//   3 gamma  cifar RUNNING   lr 1e-3  batch 8    adam  eval.accuracy NaN, train.accuracy 0.99
//   4 it's   mnist KILLED    nothing logged
struct SmallDb {
  TempDir dir;
  StoreLocation db;
  explicit SmallDb(const std::string& backend) : db(fresh_store(backend, dir)) {
    Store s(db);
    const int64_t a = s.begin_run(start("mnist", "alpha"));
    s.log_params(a, {{"train.lr", "0.1"},
                     {"train.batch_size", "64"},
                     {"train.optimizer", "adam"},
                     {"x", "plain"},
                     {"weird key;'", "w"}});
    s.log_metrics(a, {{"eval", "accuracy", 0, 0.5, 1000},
                      {"eval", "accuracy", 1, 0.8, 1001},
                      {"eval", "accuracy", 2, 0.91, 1002},
                      {"eval", "class_accuracy.3", 0, 0.5, 1003},
                      {"train", "accuracy", 0, 0.9, 2000},
                      {"train", "accuracy", 1, 0.95, 2001},
                      {"train", "loss", 1, 0.3, 2002}});
    s.set_tag(a, "note", "baseline");
    s.finish_run(a, RunStatus::kFinished);

    const int64_t b = s.begin_run(start("mnist", "beta"));
    s.log_params(b, {{"train.lr", "0.01"},
                     {"train.batch_size", "128"},
                     {"train.optimizer", "sgd"},
                     {"x", "a' OR 1=1 --"}});
    s.log_metrics(b, {{"eval", "accuracy", 0, 0.85, 1000},
                      {"train", "accuracy", 0, 0.80, 900},
                      {"train", "loss", 0, 0.5, 901}});
    s.set_tag(b, "note", "Baseline v2");
    s.finish_run(b, RunStatus::kFailed, "boom");

    const int64_t c = s.begin_run(start("cifar", "gamma"));
    s.log_params(c, {{"train.lr", "1e-3"}, {"train.batch_size", "8"}, {"train.optimizer", "adam"}});
    s.log_metrics(c, {{"eval", "accuracy", 0, std::numeric_limits<double>::quiet_NaN(), 1000},
                      {"train", "accuracy", 0, 0.99, 900},
                      {"train", "loss", 0, 0.1, 901}});

    const int64_t d = s.begin_run(start("mnist", "it's"));
    s.finish_run(d, RunStatus::kKilled);
    BOOST_REQUIRE(a == 1 && b == 2 && c == 3 && d == 4);
  }

  QueryResult run(const RunQuery& q) const {
    ReadOnlyDb ro(db);
    return run_query(ro, q);
  }
  int64_t count(const RunQuery& q) const {
    ReadOnlyDb ro(db);
    return count_runs(ro, q);
  }

  // The ids matching `filter`, ascending, as "1,3" (readable when a check fails).
  std::string match(const std::string& filter) const {
    RunQuery q;
    q.filter = filter;
    q.columns = "id";
    q.sort = {"id"};
    std::string out;
    for (const auto& row : run(q).rows)
      out += (out.empty() ? "" : ",") + std::to_string(std::get<int64_t>(row[0]));
    return out;
  }
};

// Checks that `filter` fails with the caret under byte `pos` and a message containing `needle`.
bool fails_at(const std::string& filter, size_t pos, const std::string& needle) {
  try {
    filter_fields(filter);
  } catch (const QuerySyntaxError& e) {
    const std::string what = e.what();
    // The last two lines are the filter and the caret, both indented by two spaces.
    const size_t caret_line = what.rfind('\n');
    const size_t echo_line = what.rfind('\n', caret_line - 1);
    const std::string echo = what.substr(echo_line + 1, caret_line - echo_line - 1);
    const std::string caret = what.substr(caret_line + 1);
    bool ok = e.position() == pos && echo == "  " + filter &&
              caret == "  " + std::string(pos, ' ') + "^" &&
              what.find(needle) != std::string::npos &&
              what.rfind("command line: error: filter: ", 0) == 0;
    if (!ok)
      BOOST_TEST_MESSAGE("filter <" << filter << "> wanted caret at " << pos << " and '" << needle
                                    << "'; got position " << e.position() << ":\n"
                                    << what);
    return ok;
  }
  BOOST_TEST_MESSAGE("filter <" << filter << "> was accepted");
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tracking_query)

BOOST_DATA_TEST_CASE(metric_operators, data::make(store_backends()), backend) {
  SmallDb t(backend);
  BOOST_TEST(t.match("metrics.eval.accuracy > 0.85") == "1");
  BOOST_TEST(t.match("metrics.eval.accuracy >= 0.85") == "1,2");
  BOOST_TEST(t.match("metrics.eval.accuracy < 0.91") == "2");
  BOOST_TEST(t.match("metrics.eval.accuracy <= 0.91") == "1,2");
  BOOST_TEST(t.match("metrics.eval.accuracy = 0.91") == "1");
  BOOST_TEST(t.match("metrics.eval.accuracy = 0.8") == "");  // an earlier step, not the latest
  // NaN (run 3) and missing (run 4) match nothing, != and NOT IN included.
  BOOST_TEST(t.match("metrics.eval.accuracy != 0.91") == "2");
  BOOST_TEST(t.match("metrics.eval.accuracy IN (0.85, 0.91, 7)") == "1,2");
  BOOST_TEST(t.match("metrics.eval.accuracy NOT IN (0.85)") == "1");
  BOOST_TEST(t.match("metrics.train.loss < 1e0") == "1,2,3");
  BOOST_TEST(t.match("metrics.train.loss > -.5") == "1,2,3");
  BOOST_TEST(t.match("metrics.train.loss <= +0.1") == "3");
  BOOST_TEST(t.match("metric.train.loss = '0.3'") == "1");  // numeric string, singular prefix
}

BOOST_DATA_TEST_CASE(bare_metric_key_matches_any_node, data::make(store_backends()), backend) {
  SmallDb t(backend);
  // accuracy: run 1 eval 0.91 / train 0.95, run 2 eval 0.85 / train 0.80, run 3 NaN / 0.99.
  BOOST_TEST(t.match("metrics.accuracy > 0.9") == "1,3");
  BOOST_TEST(t.match("metrics.accuracy < 0.82") == "2");
  BOOST_TEST(t.match("metrics.eval.accuracy > 0.9") == "1");
  BOOST_TEST(t.match("metrics.train.accuracy > 0.9") == "1,3");
  // As a column, the most recently logged series stands for the run: for run 1 that is train
  // (timestamp 2000) although "eval" sorts first; for run 2 it is eval (1000 > 900).
  RunQuery q;
  q.columns = "id, metrics.accuracy";
  q.sort = {"id"};
  const auto r = t.run(q);
  BOOST_REQUIRE_EQUAL(r.rows.size(), 4u);
  BOOST_TEST(std::get<double>(r.rows[0][1]) == 0.95);
  BOOST_TEST(std::get<double>(r.rows[1][1]) == 0.85);
  BOOST_TEST(std::holds_alternative<std::monostate>(r.rows[2][1]));  // eval NaN is the latest
  BOOST_TEST(std::holds_alternative<std::monostate>(r.rows[3][1]));
}

BOOST_DATA_TEST_CASE(param_operators_and_numeric_rule, data::make(store_backends()), backend) {
  SmallDb t(backend);
  BOOST_TEST(t.match("params.train.optimizer = 'adam'") == "1,3");
  BOOST_TEST(t.match("params.train.optimizer != 'adam'") == "2");  // run 4 has no such param
  BOOST_TEST(t.match("params.train.optimizer = \"sgd\"") == "2");
  BOOST_TEST(t.match("params.train.optimizer LIKE 'a%'") == "1,3");
  BOOST_TEST(t.match("params.train.optimizer LIKE 'A%'") == "");  // LIKE is case-sensitive
  BOOST_TEST(t.match("params.train.optimizer ILIKE 'A%'") == "1,3");
  BOOST_TEST(t.match("params.train.optimizer LIKE '_gd'") == "2");
  BOOST_TEST(t.match("params.train.optimizer NOT LIKE 'a%'") == "2");
  BOOST_TEST(t.match("params.train.optimizer NOT ILIKE 'SGD'") == "1,3");
  BOOST_TEST(t.match("params.train.optimizer IN ('sgd', 'rmsprop')") == "2");
  BOOST_TEST(t.match("params.train.optimizer NOT IN ('sgd')") == "1,3");
  // Numbers meet numbers: as text '8' > '128' and '0.010' != '0.01'.
  BOOST_TEST(t.match("params.train.batch_size > '10'") == "1,2");
  BOOST_TEST(t.match("params.train.batch_size > 10") == "1,2");
  BOOST_TEST(t.match("params.train.batch_size <= 64") == "1,3");
  BOOST_TEST(t.match("params.train.lr = '0.010'") == "2");
  BOOST_TEST(t.match("params.train.lr = 0.001") == "3");  // stored as "1e-3"
  BOOST_TEST(t.match("params.train.lr < 0.05") == "2,3");
  BOOST_TEST(t.match("params.train.lr IN (0.1, '1e-3')") == "1,3");
  BOOST_TEST(t.match("params.train.lr NOT IN ('0.10')") == "2,3");
  // A number against non-numeric text compares as text: 'adam' > '5' as text.
  BOOST_TEST(t.match("params.train.optimizer > 5") == "1,2,3");
  // LIKE's wildcards are % and _ only; GLOB's * ? [ match themselves.
  BOOST_TEST(t.match("params.x LIKE '%*%'") == "");
  BOOST_TEST(t.match("params.x LIKE 'a'' %'") == "2");
}

BOOST_DATA_TEST_CASE(like_wildcards_underscore_is_one_character_percent_any_run,
                     data::make(store_backends()), backend) {
  // One run per value of param opt, ids 1..8, so each pattern's matches are known by hand.
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  const std::vector<std::string> values{"sgd", "adgd", "gd", "SGD", "s_d", "sgdx", "s?d", "[s]gd"};
  {
    Store s(db);
    for (const auto& v : values) {
      const int64_t id = s.begin_run(start("e", v));
      s.log_params(id, {{"opt", v}});
      s.finish_run(id, RunStatus::kFinished);
    }
  }
  auto match = [&](const std::string& filter) {
    RunQuery q;
    q.filter = filter;
    q.columns = "id";
    q.sort = {"id"};
    ReadOnlyDb ro(db);
    std::string out;
    for (const auto& row : run_query(ro, q).rows)
      out += (out.empty() ? "" : ",") + std::to_string(std::get<int64_t>(row[0]));
    return out;
  };
  // '_' is exactly one character: not none ("gd"), not two ("adgd"), not a trailing extra one.
  BOOST_TEST(match("params.opt LIKE '_gd'") == "1");
  BOOST_TEST(match("params.opt LIKE '__gd'") == "2");
  BOOST_TEST(match("params.opt LIKE '_gd_'") == "6");
  BOOST_TEST(match("params.opt NOT LIKE '_gd'") == "2,3,4,5,6,7,8");
  // '%' is any run of characters, the empty one included.
  BOOST_TEST(match("params.opt LIKE '%gd'") == "1,2,3,8");
  BOOST_TEST(match("params.opt LIKE 'gd%'") == "3");
  BOOST_TEST(match("params.opt LIKE '%gd%'") == "1,2,3,6,8");
  // There is no escape character (MLflow's grammar has no ESCAPE): '_' in a pattern matches any
  // character, the underscore itself among them.
  BOOST_TEST(match("params.opt LIKE 's_d'") == "1,5,7");
  // GLOB's own wildcards in a LIKE pattern match only themselves.
  BOOST_TEST(match("params.opt LIKE 's?d'") == "7");
  BOOST_TEST(match("params.opt LIKE '[s]gd'") == "8");
  // LIKE is case-sensitive, ILIKE is not; the wildcards mean the same in both.
  BOOST_TEST(match("params.opt LIKE '_GD'") == "4");
  BOOST_TEST(match("params.opt ILIKE '_GD'") == "1,4");
  BOOST_TEST(match("params.opt ILIKE '%GD'") == "1,2,3,4,8");
  BOOST_TEST(match("params.opt NOT ILIKE '_gd'") == "2,3,5,6,7,8");
}

BOOST_DATA_TEST_CASE(tags_and_attributes, data::make(store_backends()), backend) {
  SmallDb t(backend);
  BOOST_TEST(t.match("tags.note = 'baseline'") == "1");
  BOOST_TEST(t.match("tags.note ILIKE 'baseline%'") == "1,2");
  BOOST_TEST(t.match("tag.note != 'baseline'") == "2");
  BOOST_TEST(t.match("tags.missing = 'x'") == "");

  BOOST_TEST(t.match("attributes.status = 'FINISHED'") == "1");
  BOOST_TEST(t.match("attributes.status = 'failed'") == "2");       // status values in any case
  BOOST_TEST(t.match("status IN ('RUNNING', 'KILLED')") == "3,4");  // bare attribute names
  BOOST_TEST(t.match("status != 'FINISHED'") == "2,3,4");
  BOOST_TEST(t.match("attributes.name = 'it''s'") == "4");
  BOOST_TEST(t.match("attributes.run_name LIKE '%a'") == "1,2,3");
  BOOST_TEST(t.match("attributes.experiment = 'cifar'") == "3");
  BOOST_TEST(t.match("attr.experiment_name != 'cifar'") == "1,2,4");
  BOOST_TEST(t.match("attributes.id >= 3") == "3,4");
  BOOST_TEST(t.match("attributes.run_id IN (1, '4')") == "1,4");
  BOOST_TEST(t.match("id NOT IN (1, 2)") == "3,4");
  BOOST_TEST(t.match("attributes.start_time > '2000-01-01'") == "1,2,3,4");
  BOOST_TEST(t.match("attributes.created < '2000-01-01 12:30:00'") == "");
  BOOST_TEST(t.match("attributes.start_time > 946684800") == "1,2,3,4");
  BOOST_TEST(t.match("attributes.end_time > 0") == "1,2,4");  // a running run has no end_time
  BOOST_TEST(t.match("duration >= 0 and status = 'RUNNING'") == "3");
  BOOST_TEST(t.match("attributes.host = 'testhost'") == "1,2,3,4");
  {
    RawStore raw(t.db);
    const std::string uuid = raw.text("SELECT uuid FROM runs WHERE id = 3");
    BOOST_TEST(t.match("attributes.uuid = '" + uuid + "'") == "3");
    BOOST_TEST(t.match("attributes.uuid LIKE '" + uuid.substr(0, 8) + "%'") == "3");
  }
  BOOST_TEST(t.match("") == "1,2,3,4");
  BOOST_TEST(t.match("   ") == "1,2,3,4");
}

BOOST_DATA_TEST_CASE(and_or_precedence_and_parentheses, data::make(store_backends()), backend) {
  SmallDb t(backend);
  // AND binds tighter: KILLED or (adam and cifar) = {4} + {3}.
  BOOST_TEST(t.match("status = 'KILLED' or params.train.optimizer = 'adam' and "
                     "experiment = 'cifar'") == "3,4");
  BOOST_TEST(t.match("(status = 'KILLED' or params.train.optimizer = 'adam') and "
                     "experiment = 'cifar'") == "3");
  BOOST_TEST(t.match("params.train.optimizer = 'adam' and experiment = 'cifar' or "
                     "status = 'KILLED'") == "3,4");
  BOOST_TEST(t.match("params.train.optimizer = 'adam' and (experiment = 'cifar' or "
                     "status = 'KILLED')") == "3");
  // Keywords in any case; extra parentheses and whitespace are fine.
  BOOST_TEST(t.match("((metrics.eval.accuracy > 0.8))AND\tparams.train.lr >= 0.01 Or id = 4") ==
             "1,2,4");
  BOOST_TEST(t.match("metrics.eval.accuracy > 0.8 and params.train.lr > 0.05") == "1");
  // "android" is not "and" followed by "roid".
  BOOST_TEST(fails_at("id = 1 android = 2", 7, "expected AND, OR or the end of the filter"));
}

BOOST_DATA_TEST_CASE(quoted_keys, data::make(store_backends()), backend) {
  SmallDb t(backend);
  // One quoted segment is a bare key containing a dot, logged by any node.
  BOOST_TEST(t.match("metrics.\"class_accuracy.3\" = 0.5") == "1");
  BOOST_TEST(t.match("metrics.`class_accuracy.3` = 0.5") == "1");
  // With a node, everything after it is the key, dots and all.
  BOOST_TEST(t.match("metrics.eval.`class_accuracy.3` = 0.5") == "1");
  BOOST_TEST(t.match("metrics.eval.class_accuracy.3 = 0.5") == "1");
  BOOST_TEST(t.match("metrics.train.class_accuracy.3 = 0.5") == "");
  // Unquoted, class_accuracy would be read as the node.
  BOOST_TEST(t.match("metrics.class_accuracy.3 = 0.5") == "");
  BOOST_TEST(t.match("params.`weird key;'` = 'w'") == "1");
  BOOST_TEST(t.match("params.\"weird key;'\" = 'w'") == "1");
  BOOST_TEST(t.match("params.train.\"lr\" = 0.1") == "1");  // quoted segments join with dots

  // display() spells a field so that it parses back to itself.
  for (const std::string text :
       {"metrics.eval.accuracy", "metrics.`class_accuracy.3`", "metrics.eval.class_accuracy.3",
        "metrics.`my node`.x", "params.`weird key;'`", "params.train.lr", "tags.`a``b`", "status",
        "params.`.x`"}) {
    const Field f = parse_field(text);
    BOOST_TEST(f.display() == text);
    BOOST_TEST((parse_field(f.display()) == f));
  }
  BOOST_TEST(parse_field("metrics.`class_accuracy.3`").node.empty());
  BOOST_TEST(parse_field("metrics.`class_accuracy.3`").key == "class_accuracy.3");
  BOOST_TEST(parse_field("metrics.eval.a.b").node == "eval");
  BOOST_TEST(parse_field("metrics.eval.a.b").key == "a.b");
  BOOST_TEST(parse_field("tags.`a``b`").key == "a`b");
  BOOST_TEST(parse_field("attributes.run_id").key == "id");
  BOOST_TEST(parse_field("ATTRIBUTES.Status").key == "status");
}

BOOST_DATA_TEST_CASE(columns_sort_and_limit, data::make(store_backends()), backend) {
  SmallDb t(backend);
  RunQuery q;
  q.filter = "metrics.eval.accuracy > 0 or status = 'KILLED'";
  q.sort = {"-metrics.eval.accuracy"};
  auto r = t.run(q);
  // Default columns: id, experiment, name, status, then the filter's fields (status already there).
  std::vector<std::string> heads;
  for (const auto& f : r.fields) heads.push_back(f.display());
  BOOST_TEST(heads == (std::vector<std::string>{"id", "experiment", "name", "status",
                                                "metrics.eval.accuracy"}),
             tt::per_element());
  BOOST_REQUIRE_EQUAL(r.rows.size(), 3u);
  BOOST_TEST(std::get<int64_t>(r.rows[0][0]) == 1);  // 0.91
  BOOST_TEST(std::get<int64_t>(r.rows[1][0]) == 2);  // 0.85
  BOOST_TEST(std::get<int64_t>(r.rows[2][0]) == 4);  // no metric: last
  BOOST_TEST(std::get<std::string>(r.rows[0][1]) == "mnist");
  BOOST_TEST(std::get<std::string>(r.rows[2][2]) == "it's");
  BOOST_TEST(std::get<std::string>(r.rows[1][3]) == "FAILED");
  BOOST_TEST(std::get<double>(r.rows[0][4]) == 0.91);

  auto order = [&](std::vector<std::string> sort, const std::string& filter = "") {
    RunQuery s;
    s.filter = filter;
    s.columns = "id";
    s.sort = std::move(sort);
    std::string out;
    for (const auto& row : t.run(s).rows) out += std::to_string(std::get<int64_t>(row[0]));
    return out;
  };
  // Params sort as numbers (8 < 64 < 128; as text "128" < "64" < "8"); missing last either way.
  BOOST_TEST(order({"params.train.batch_size"}) == "3124");
  BOOST_TEST(order({"-params.train.batch_size"}) == "2134");
  BOOST_TEST(order({"params.train.batch_size DESC"}) == "2134");
  BOOST_TEST(order({"+params.train.lr"}) == "3214");
  BOOST_TEST(order({"params.train.optimizer desc, -id"}) == "2314");
  BOOST_TEST(order({"params.train.optimizer", "-id"}) == "3124");
  BOOST_TEST(order({"name"}) == "1234");
  BOOST_TEST(order({"-name"}) == "4321");
  BOOST_TEST(order({"metrics.train.loss"}) == "3124");  // 0.1, 0.3, 0.5
  BOOST_TEST(order({}) == "4321");                      // default: newest first
  BOOST_TEST(order({"experiment", "-metrics.accuracy"}) == "3124");

  RunQuery lim;
  lim.sort = {"-metrics.train.accuracy"};
  lim.limit = 2;
  lim.columns = "id,status,params.`weird key;'`,tags.note";
  r = t.run(lim);
  BOOST_REQUIRE_EQUAL(r.rows.size(), 2u);
  BOOST_TEST(std::get<int64_t>(r.rows[0][0]) == 3);  // 0.99
  BOOST_TEST(std::get<int64_t>(r.rows[1][0]) == 1);  // 0.95
  BOOST_REQUIRE_EQUAL(r.fields.size(), 4u);
  BOOST_TEST(std::get<std::string>(r.rows[1][2]) == "w");
  BOOST_TEST(std::get<std::string>(r.rows[1][3]) == "baseline");
  BOOST_TEST(std::holds_alternative<std::monostate>(r.rows[0][3]));

  // Paging: offset skips into the sorted result, with or without a limit; count_runs is the
  // total behind every page, whatever the sort, limit and offset.
  auto page = [&](int limit, int64_t offset) {
    RunQuery p;
    p.columns = "id";
    p.sort = {"name"};  // 1234
    p.limit = limit;
    p.offset = offset;
    std::string out;
    for (const auto& row : t.run(p).rows) out += std::to_string(std::get<int64_t>(row[0]));
    return out;
  };
  BOOST_TEST(page(2, 0) == "12");
  BOOST_TEST(page(2, 2) == "34");
  BOOST_TEST(page(2, 3) == "4");
  BOOST_TEST(page(0, 1) == "234");
  BOOST_TEST(page(2, 9).empty());
  RunQuery all_runs, some;
  all_runs.limit = 1, all_runs.offset = 1, all_runs.sort = {"-name"};
  some.filter = "metrics.eval.accuracy > 0 or status = 'KILLED'";
  BOOST_TEST(t.count(all_runs) == 4);
  BOOST_TEST(t.count(some) == 3);
  // The same totals counted in the page's own statement, also past the end.
  for (int64_t offset : {0, 2, 7}) {
    some.with_total = true, some.limit = 2, some.offset = offset;
    const auto r = t.run(some);
    BOOST_TEST(r.rows.size() == (offset == 0 ? 2u : offset == 2 ? 1u : 0u));
    BOOST_TEST_REQUIRE(r.total.has_value());
    BOOST_TEST(*r.total == 3);
    for (const auto& row : r.rows) BOOST_TEST(row.size() == r.fields.size());
  }

  BOOST_CHECK_THROW(parse_sort("-metrics.x desc"), QuerySyntaxError);  // direction twice
  BOOST_CHECK_THROW(parse_columns("id,"), QuerySyntaxError);
  BOOST_TEST(parse_columns("metrics.`a,b`, id").size() == 2u);  // a comma inside quotes
  BOOST_TEST(parse_columns("metrics.`a,b`, id")[0].key == "a,b");
}

// MLflow's grammar where flowlab used to differ: IS [NOT] NULL, more entity prefixes (run.,
// parameter(s)., backquoted), `run name`, dotted metric keys in quotes, unquoted non-ASCII keys,
// millisecond times, and filters of thousands of clauses.
BOOST_DATA_TEST_CASE(mlflow_grammar_gaps_are_closed, data::make(store_backends()), backend) {
  SmallDb t(backend);
  // IS NULL: the run has no value (no such param, tag or series; a NaN latest value; NULL).
  BOOST_TEST(t.match("params.x IS NULL") == "3,4");
  BOOST_TEST(t.match("params.x is not null") == "1,2");
  BOOST_TEST(t.match("metrics.eval.accuracy IS NULL") == "3,4");   // 3's latest value is NaN
  BOOST_TEST(t.match("metrics.accuracy IS NOT NULL") == "1,2,3");  // 3 has train.accuracy
  // ILIKE folds Unicode case, on both backends.
  {
    Store s(t.db);
    const int64_t u = s.begin_run(start("mnist", "Übung ünïcödé Σ"));
    BOOST_TEST(t.match("name ILIKE '%ÜNÏCÖDÉ%'") == std::to_string(u));
    BOOST_TEST(t.match("name ILIKE 'übung%σ'") == std::to_string(u));
    BOOST_TEST(t.match("name LIKE '%ÜNÏCÖDÉ%'").empty());  // LIKE keeps case
    BOOST_TEST(t.match("name NOT ILIKE '%Ü%' and name ILIKE '%a%'") == "1,2,3");
    s.purge_runs({u});
  }
  // STALE: RUNNING and silent for over a minute; no longer RUNNING (as `flowlab runs` shows).
  {
    Store s(t.db);
    const int64_t z = s.begin_run(start("mnist", "zombie"));
    RawStore(t.db).exec(
        "UPDATE runs SET heartbeat = heartbeat - 3600, start_time = start_time - 3600 WHERE id = " +
        std::to_string(z));
    BOOST_TEST(t.match("status = 'STALE'") == std::to_string(z));
    BOOST_TEST(t.match("status = 'stale' or status = 'KILLED'") == "4," + std::to_string(z));
    BOOST_TEST(t.match("status = 'RUNNING'") == "3");  // gamma beat just now
    BOOST_TEST(t.match("status != 'STALE' and status IN ('RUNNING', 'FAILED')") == "2,3");
    s.purge_runs({z});
  }
  // MLflow's run_id is the hex id: quoted values of run_id are the runs' uuids.
  {
    Store s(t.db);
    const std::string u1 = s.get_run(1)->uuid, u3 = s.get_run(3)->uuid;
    BOOST_TEST(t.match("attributes.run_id IN ('" + u1 + "', '" + u3 + "')") == "1,3");
    BOOST_TEST(t.match("run_id = '" + u3 + "'") == "3");
    BOOST_TEST(t.match("run_id != '" + u3 + "'") == "1,2,4");
    BOOST_TEST(t.match("run_id IN (1, 3)") == "1,3");  // numbers: flowlab's integer ids
    BOOST_CHECK_THROW(t.match("run_id > 'abc'"), QuerySyntaxError);
  }
  BOOST_TEST(t.match("tags.note IS NOT NULL and attributes.end_time IS NOT NULL") == "1,2");
  BOOST_TEST(t.match("attributes.end_time IS NULL") == "3");
  BOOST_TEST(t.match("parent_id IS NULL") == "1,2,3,4");
  BOOST_TEST(fails_at("params.x IS 'a'", 12, "expected NULL or NOT NULL after IS"));
  // Prefixes and aliases.
  BOOST_TEST(t.match("run.status = 'FINISHED'") == "1");
  BOOST_TEST(t.match("parameter.x = 'plain'") == "1");
  BOOST_TEST(t.match("parameters.train.optimizer = 'adam'") == "1,3");
  BOOST_TEST(t.match("`metric`.eval.accuracy > 0.9") == "1");
  BOOST_TEST(t.match("`params`.x = 'plain' and `tags`.note = 'baseline'") == "1");
  BOOST_TEST(t.match("attributes.`run name` = 'beta'") == "2");
  BOOST_TEST(t.match("`run name` = 'beta'") == "2");
  BOOST_TEST(fails_at("`nope` = 1", 0, "unknown field `nope`"));
  // A dotted metric key in quotes, as MLflow's docs write it: node.key, or a key with a dot.
  BOOST_TEST(t.match("metrics.`eval.accuracy` > 0.9") == "1");
  BOOST_TEST(t.match("metrics.\"eval.accuracy\" >= 0.8") == "1,2");
  BOOST_TEST(t.match("metrics.eval.`class_accuracy.3` = 0.5") == "1");
  BOOST_TEST(t.match("metrics.`class_accuracy.3` = 0.5") == "1");  // the key itself has a dot
  // Unquoted non-ASCII keys.
  {
    Store s(t.db);
    s.log_params(4, {{"größe", "3"}});
  }
  BOOST_TEST(t.match("params.größe = 3") == "4");
  // MLflow's millisecond times: a number too large for seconds (after the year 5138).
  BOOST_TEST(t.match("attributes.start_time > 946684800000") == "1,2,3,4");  // 2000-01-01
  BOOST_TEST(t.match("attributes.start_time < 946684800000") == "");
  BOOST_TEST(t.match("attributes.start_time > 946684800") == "1,2,3,4");  // seconds still work
  // Up to 250 comparisons (nested as a balanced tree in the SQL: SQLite refuses an expression
  // 1,000 deep); beyond that, a clear limit.
  std::string all_and, any_or;
  for (int i = 0; i < 250; ++i) {
    all_and += (i ? " and " : "") + std::string("params.train.lr > 0");
    any_or += (i ? " or " : "") + fmt::format("attributes.id = {}", i == 249 ? 2 : 1000 + i);
  }
  BOOST_TEST(t.match(all_and) == "1,2,3");
  BOOST_TEST(t.match(any_or) == "2");
  BOOST_TEST(fails_at(any_or + " or id = 5", any_or.size() + 4, "at most 250 comparisons"));
}

BOOST_AUTO_TEST_CASE(malformed_filters_point_at_the_culprit) {
  BOOST_TEST(fails_at("metrics.acc ~ 0.9", 12, "expected an operator"));
  BOOST_TEST(fails_at("metrics.acc > ", 14, "expected a number or a quoted string"));
  BOOST_TEST(fails_at("params.lr = 0.1 and", 19, "expected a field"));
  BOOST_TEST(fails_at("params.lr = 'abc", 12, "unterminated string"));
  BOOST_TEST(fails_at("metrics.x > 1 andd params.y = '2'", 14, "expected AND, OR or the end"));
  BOOST_TEST(fails_at("foo.bar = 1", 0, "unknown field 'foo'"));
  BOOST_TEST(fails_at("metircs.x = 1", 0, "did you mean 'metrics'"));
  BOOST_TEST(fails_at("attributes.colour = 'x'", 11, "unknown attribute 'colour'"));
  BOOST_TEST(fails_at("attributes.stauts = 'x'", 11, "did you mean 'status'"));
  BOOST_TEST(fails_at("metrics.acc LIKE 'a%'", 12, "LIKE and ILIKE compare text"));
  BOOST_TEST(fails_at("metrics.acc > 'high'", 14, "expected a number for metrics.acc"));
  BOOST_TEST(fails_at("start_time > 'yesterday'", 13, "local date"));
  BOOST_TEST(fails_at("attributes.run_id > 'ab12'", 20, "the runs' uuids"));
  BOOST_TEST(fails_at("status = 'DONE'", 9, "unknown run status 'DONE'"));
  BOOST_TEST(fails_at("status IN ('FINISHED', 'DONE')", 23, "unknown run status"));
  BOOST_TEST(fails_at("(metrics.a > 1", 14, "expected ')' to close the '(' at column 1"));
  BOOST_TEST(fails_at("params.x IN ('a' 'b')", 17, "expected ',' or ')'"));
  BOOST_TEST(fails_at("params.x IN 'a'", 12, "expected '('"));
  BOOST_TEST(fails_at("params.x IN ()", 13, "expected a number or a quoted string"));
  BOOST_TEST(fails_at("metrics. > 1", 8, "expected a key after 'metrics.'"));
  BOOST_TEST(fails_at("metrics.eval. > 1", 13, "expected a key after 'metrics.eval.'"));
  BOOST_TEST(fails_at("metrics > 1", 7, "expected '.' and a key after 'metrics'"));
  BOOST_TEST(fails_at("metrics.`abc > 1", 8, "unterminated quoted key"));
  BOOST_TEST(fails_at("metrics.`` > 1", 8, "empty key"));
  BOOST_TEST(fails_at("params.lr = abc", 12, "expected a number or a quoted string"));
  BOOST_TEST(fails_at("params.lr = 0.1x", 12, "expected a number or a quoted string"));
  BOOST_TEST(fails_at("params.x NOT = 'a'", 13, "expected IN, LIKE or ILIKE after NOT"));
  BOOST_TEST(fails_at("params.x = 'a' or", 17, "expected a field"));
  BOOST_TEST(fails_at("and params.x = 'a'", 0, "unknown field 'and'"));
  BOOST_TEST(fails_at("params.x == 'a'", 10, "expected a number or a quoted string"));
  BOOST_TEST(fails_at(") or id = 1", 0, "expected a field"));
  BOOST_TEST(fails_at(std::string(70, '(') + "id = 1" + std::string(70, ')'), 64,
                      "nested deeper than 64"));

  // The caret counts characters, not bytes, in front of it.
  try {
    filter_fields("tags.`café` = 'x' y");
    BOOST_FAIL("accepted");
  } catch (const QuerySyntaxError& e) {
    BOOST_TEST(e.position() == 19u);  // bytes: é is two
    const std::string what = e.what();
    BOOST_TEST(what.substr(what.rfind('\n') + 1) == "  " + std::string(18, ' ') + "^");
  }
  // It is a ConfigError (exit code 2) naming the option.
  BOOST_CHECK_EXCEPTION(parse_sort("-metrics.a,"), ConfigError, [](const ConfigError& e) {
    return std::string(e.what()).find("--sort:") != std::string::npos;
  });
}

BOOST_DATA_TEST_CASE(injection_attempts_are_just_strings, data::make(store_backends()), backend) {
  SmallDb t(backend);
  // The quote doubled inside the literal is part of the value: it matches run 2's param exactly
  // and nothing else (were it spliced into SQL, "OR 1=1" would match every run).
  BOOST_TEST(t.match("params.x = 'a'' OR 1=1 --'") == "2");
  BOOST_TEST(t.match("params.train.lr = '0.1'' OR ''1''=''1'") == "");
  BOOST_TEST(t.match("params.x = \"a' OR 1=1 --\"") == "2");
  BOOST_TEST(t.match("params.\"x; DROP TABLE runs; --\" = 'a'") == "");
  BOOST_TEST(t.match("params.`x' OR '1'='1` = 'a'") == "");
  BOOST_TEST(t.match("metrics.`a'); DROP TABLE runs; --`.\"k\"\"\" > 0") == "");
  BOOST_TEST(t.match("tags.`note` LIKE '%'' OR 1=1; DROP TABLE tags; --'") == "");
  BOOST_TEST(t.match("attributes.name IN ('x'');DELETE FROM runs;--')") == "");
  BOOST_TEST(fails_at("; DROP TABLE runs", 0, "expected a field"));
  BOOST_TEST(fails_at("params.lr = '1'; DROP TABLE runs", 15, "expected AND, OR or the end"));
  BOOST_TEST(fails_at("id = 1 -- comment", 7, "expected AND, OR or the end"));
  BOOST_CHECK_THROW(parse_columns("id; DROP TABLE runs"), QuerySyntaxError);
  BOOST_CHECK_THROW(parse_sort("id; DROP TABLE runs"), QuerySyntaxError);
  RunQuery evil_columns;
  evil_columns.columns = "params.`x) FROM runs; DROP TABLE runs; --`";
  BOOST_TEST(t.run(evil_columns).rows.size() == 4u);

  // Keys and values never reach the SQL text: filters that differ only in them compile to the
  // same statement, with the user's text among the bound values.
  const CompiledQuery plain = compile_query({"params.x = 'a'", "id", {}, 0});
  const CompiledQuery evil =
      compile_query({"params.`x; DROP TABLE runs; --` = 'a'' OR 1=1 --'", "id", {}, 0});
  BOOST_TEST(plain.sql == evil.sql);
  BOOST_TEST(evil.sql.find("DROP") == std::string::npos);
  BOOST_TEST(evil.sql.find("1=1") == std::string::npos);
  BOOST_TEST(std::get<std::string>(evil.binds.at(0)) == "x; DROP TABLE runs; --");
  BOOST_TEST(std::get<std::string>(evil.binds.at(1)) == "a' OR 1=1 --");
  const CompiledQuery m1 =
      compile_query({"metrics.a.b > 1 and tags.t ILIKE 'x'", "", {"-params.p"}, 3});
  const CompiledQuery m2 = compile_query(
      {"metrics.`'`.`\"` > 1e300 and tags.`;` ILIKE '%'';--'", "", {"-params.`)`"}, 3});
  BOOST_TEST(m1.sql == m2.sql);

  // The database is untouched.
  RawStore raw(t.db);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs") == 4);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM params") == 12);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM tags") == 2);
  if (raw.dialect() == Dialect::kSqlite) {
    BOOST_TEST(raw.integer("SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                           "('runs', 'tags', 'params', 'metrics')") == 4);
    BOOST_TEST(raw.text("PRAGMA integrity_check") == "ok");
  } else {
    BOOST_TEST(raw.integer("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                           "current_schema() AND table_name IN "
                           "('runs', 'tags', 'params', 'metrics')") == 4);
  }
}

BOOST_AUTO_TEST_CASE(parse_number_accepts_only_whole_numbers) {
  BOOST_TEST(parse_number("1e-3").value() == 0.001);
  BOOST_TEST(parse_number("-.5").value() == -0.5);
  BOOST_TEST(parse_number("+7").value() == 7.0);
  BOOST_TEST(parse_number("3.").value() == 3.0);
  for (const char* junk :
       {"", " 1", "1 ", "0x10", "inf", "nan", "1e", "1e+", ".", "-", "12abc", "1,5", "1e999"})
    BOOST_TEST(!parse_number(junk).has_value(), "accepted '" << junk << "'");
}

// The SQL function flowlab_number (a C function in SQLite, PL/pgSQL in PostgreSQL) reads exactly
// the numbers parse_number reads, and the same values.
BOOST_DATA_TEST_CASE(flowlab_number_in_sql_is_parse_number, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation where = fresh_store(backend, dir);
  { Store create(where); }
  const ReadOnlyDb db(where);
  for (const char* text :
       {"1e-3",    "-.5", "+7",    "3.",  "0.010", "64",  "1E+2", "-0",   "1e-999",
        "-1e-999", "",    " 1",    "1 ",  "0x10",  "inf", "nan",  "1e",   "1e+",
        ".",       "-",   "12abc", "1,5", "1e999", "+-1", "--1",  "1.5.2"}) {
    const auto want = parse_number(text);
    const SqlValue got =
        db.execute("SELECT flowlab_number(?)", {std::string(text)}).rows.at(0).at(0);
    BOOST_TEST_CONTEXT("flowlab_number('" << text << "')") {
      BOOST_TEST(want.has_value() == std::holds_alternative<double>(got));
      if (want && std::holds_alternative<double>(got)) {
        BOOST_TEST(*want == std::get<double>(got));
        BOOST_TEST(std::signbit(*want) == std::signbit(std::get<double>(got)));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(tags_and_views_in_schema_3) {
  TempDir dir;
  const fs::path db = dir / "runs.db";
  int64_t id = 0;
  {
    Store v2(db, 2);
    id = v2.begin_run(start("e", "old"));
    v2.log_params(id, {{"lr", "0.1"}});
    v2.log_metrics(id, {{"train", "loss", 0, 2.0, 10}, {"train", "loss", 1, 1.0, 11}});
    BOOST_CHECK_THROW(v2.set_tag(id, "k", "v"), StoreError);
    BOOST_TEST(v2.tags(id).empty());
  }
  Store s(db);  // migrates 2 -> latest
  BOOST_TEST(s.schema_version() >= 3);
  s.set_tag(id, "k", "v1");
  s.set_tag(id, "k", "v2");  // tags are mutable
  s.set_tag(id, "other", "");
  BOOST_TEST((s.tags(id) == std::map<std::string, std::string>{{"k", "v2"}, {"other", ""}}));
  BOOST_CHECK_THROW(s.set_tag(id + 100, "k", "v"), StoreError);  // foreign key

  RawDb raw(db);
  for (const char* view :
       {"run_attributes", "run_params", "run_tags", "run_metrics", "final_metrics", "runs_summary"})
    BOOST_TEST(raw.text(std::string("SELECT type FROM sqlite_master WHERE name = '") + view +
                        "'") == "view");
  BOOST_TEST(raw.text("SELECT name || '|' || experiment || '|' || status FROM run_attributes") ==
             "old|e|RUNNING");
  BOOST_TEST(raw.text("SELECT key || '=' || value FROM run_params") == "lr=0.1");
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM run_tags") == 2);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM run_metrics WHERE node = 'train'") == 2);
  BOOST_TEST(raw.text("SELECT value FROM final_metrics WHERE key = 'loss'") == "1.0");
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM pragma_table_info('run_metrics')") == 6);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM pragma_table_info('final_metrics')") == 4);
}

// ---------------------------------------------------------------------------------------------
// 1,000 runs, 100,000 metric rows: each query's answer equals the same question in hand-written
// SQL over the raw tables (final values recomputed from `metrics`, not read from latest_metrics)
// and, where simple, a C++ model of the generated data. Times are reported, not asserted.

namespace {

struct Generated {
  std::string optimizer, lr, group;
  int batch = 0;
  double final_eval_acc = 0, final_train_acc = 0;
  RunStatus status = RunStatus::kFinished;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<int64_t> ids_of(const QueryResult& r) {
  std::vector<int64_t> out;
  for (const auto& row : r.rows) out.push_back(std::get<int64_t>(row.at(0)));
  return out;
}

}  // namespace

BOOST_DATA_TEST_CASE(thousand_runs_agree_with_raw_sql, data::make(store_backends()), backend) {
  TempDir dir;
  const StoreLocation db = fresh_store(backend, dir);
  constexpr int kRuns = 1000;
  const char* optimizers[] = {"adam", "sgd", "rmsprop"};
  const char* lrs[] = {"0.1", "3e-2", "0.01", "0.003", "1e-3"};  // mixed spellings on purpose
  const int batches[] = {8, 16, 32, 64, 128, 256};
  std::vector<Generated> gen(kRuns + 1);
  auto t0 = std::chrono::steady_clock::now();
  {
    Store s(db);
    std::mt19937_64 rng(12345);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int i = 1; i <= kRuns; ++i) {
      Generated& g = gen[i];
      g.optimizer = optimizers[i % 3];
      g.lr = lrs[(i / 3) % 5];
      g.batch = batches[(i / 7) % 6];
      g.group = std::string(1, static_cast<char>('a' + (i / 11) % 4));
      const int64_t id =
          s.begin_run(start(i % 5 == 0 ? "cifar" : "mnist", "run-" + std::to_string(i)));
      BOOST_REQUIRE_EQUAL(id, i);
      s.log_params(id, {{"train.optimizer", g.optimizer},
                        {"train.lr", g.lr},
                        {"train.batch_size", std::to_string(g.batch)},
                        {"seed", std::to_string(i)}});
      std::vector<MetricRow> rows;
      for (int step = 0; step < 40; ++step) {
        rows.push_back({"train", "loss", step, 2.0 * u(rng), 1000.0 + step});
        g.final_train_acc = u(rng);
        rows.push_back({"train", "accuracy", step, g.final_train_acc, 1000.0 + step});
      }
      for (int step = 0; step < 10; ++step) {
        g.final_eval_acc = u(rng);
        rows.push_back({"eval", "accuracy", step, g.final_eval_acc, 2000.0 + step});
        rows.push_back({"eval", "loss", step, u(rng), 2000.0 + step});
      }
      s.log_metrics(id, rows);
      s.set_tag(id, "group", g.group);
      g.status = i % 10 == 0   ? RunStatus::kFailed
                 : i % 17 == 0 ? RunStatus::kKilled
                               : RunStatus::kFinished;
      s.finish_run(id, g.status);
    }
  }
  BOOST_TEST_MESSAGE("built " << kRuns << " runs in " << seconds_since(t0) << " s");

  RawStore raw(db);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM runs") == kRuns);
  BOOST_TEST(raw.integer("SELECT COUNT(*) FROM metrics") == 100 * kRuns);
  // Final values recomputed from the raw rows: the highest step per series.
  const std::string last =
      "WITH last AS (SELECT run_id, node, key, value FROM (SELECT m.*, ROW_NUMBER() OVER "
      "(PARTITION BY run_id, node, key ORDER BY step DESC, id DESC) AS rn FROM metrics m) "
      "AS ranked WHERE rn = 1) ";

  const ReadOnlyDb ro(db);
  auto timed = [&](const std::string& what, const RunQuery& q) {
    const auto t = std::chrono::steady_clock::now();
    QueryResult r = run_query(ro, q);
    const double s = seconds_since(t);
    BOOST_TEST_MESSAGE("query " << what << ": " << r.rows.size() << " rows in " << s * 1e3
                                << " ms");
    BOOST_WARN_LT(s, 1.0);
    return r;
  };

  {  // A metric and a param, AND.
    const auto r =
        timed("eval.accuracy > 0.8 and optimizer = adam",
              {"metrics.eval.accuracy > 0.8 and params.train.optimizer = 'adam'", "id", {"id"}, 0});
    const auto want =
        raw.ints(last +
                 "SELECT l.run_id FROM last l JOIN params p ON p.run_id = l.run_id AND "
                 "p.key = 'train.optimizer' WHERE l.node = 'eval' AND l.key = 'accuracy' AND "
                 "l.value > 0.8 AND p.value = 'adam' ORDER BY l.run_id");
    std::vector<int64_t> model;
    for (int i = 1; i <= kRuns; ++i)
      if (gen[i].final_eval_acc > 0.8 && gen[i].optimizer == "adam") model.push_back(i);
    BOOST_TEST(want.size() > 10u);
    BOOST_TEST(ids_of(r) == want, tt::per_element());
    BOOST_TEST(ids_of(r) == model, tt::per_element());
  }
  {  // Top 10 finished runs by final eval accuracy, with the value as a column.
    const auto r =
        timed("top 10 by eval.accuracy",
              {"status = 'FINISHED'", "id,metrics.eval.accuracy", {"-metrics.eval.accuracy"}, 10});
    const auto want =
        raw.rows(last +
                 "SELECT l.run_id, l.value FROM last l JOIN runs r ON r.id = l.run_id WHERE "
                 "r.status = 'FINISHED' AND l.node = 'eval' AND l.key = 'accuracy' "
                 "ORDER BY l.value DESC LIMIT 10");
    BOOST_REQUIRE_EQUAL(r.rows.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      BOOST_TEST(std::get<int64_t>(r.rows[i][0]) == std::stoll(want[i][0]));
      BOOST_TEST(std::get<double>(r.rows[i][1]) == std::stod(want[i][1]), tt::tolerance(1e-12));
    }
  }
  {  // A bare key: any node's final accuracy.
    const auto r =
        timed("bare metrics.accuracy >= 0.95", {"metrics.accuracy >= 0.95", "id", {"id"}, 0});
    const auto want = raw.ints(last +
                               "SELECT DISTINCT run_id FROM last WHERE key = 'accuracy' AND value "
                               ">= 0.95 ORDER BY run_id");
    std::vector<int64_t> model;
    for (int i = 1; i <= kRuns; ++i)
      if (gen[i].final_eval_acc >= 0.95 || gen[i].final_train_acc >= 0.95) model.push_back(i);
    BOOST_TEST(ids_of(r) == want, tt::per_element());
    BOOST_TEST(ids_of(r) == model, tt::per_element());
  }
  {  // Params compared as numbers ("3e-2" < 0.05 although '3' > '0' as text).
    const auto r =
        timed("numeric params",
              {"params.train.lr < 0.05 and params.train.batch_size >= 64", "id", {"id"}, 0});
    const auto want = raw.ints(
        "SELECT r.id FROM runs r WHERE "
        "(SELECT CAST(value AS DOUBLE PRECISION) FROM params WHERE run_id = r.id AND key = "
        "'train.lr') < 0.05 "
        "AND "
        "(SELECT CAST(value AS INTEGER) FROM params WHERE run_id = r.id AND key = "
        "'train.batch_size') >= 64 "
        "ORDER BY r.id");
    std::vector<int64_t> model;
    for (int i = 1; i <= kRuns; ++i)
      if (std::stod(gen[i].lr) < 0.05 && gen[i].batch >= 64) model.push_back(i);
    BOOST_TEST(want.size() > 10u);
    BOOST_TEST(ids_of(r) == want, tt::per_element());
    BOOST_TEST(ids_of(r) == model, tt::per_element());
  }
  {  // OR, IN, tags, parentheses and an attribute.
    const auto r = timed(
        "or/in/tags", {"(tags.group IN ('a', 'c') or status = 'FAILED') and experiment = 'cifar'",
                       "id",
                       {"id"},
                       0});
    const auto want = raw.ints(
        "SELECT r.id FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE "
        "(r.id IN (SELECT run_id FROM tags WHERE key = 'group' AND value IN ('a', 'c')) OR "
        "r.status = 'FAILED') AND e.name = 'cifar' ORDER BY r.id");
    BOOST_TEST(want.size() > 10u);
    BOOST_TEST(ids_of(r) == want, tt::per_element());
  }
  {  // Everything, sorted by a param numerically, then a metric; all columns by default.
    const auto r = timed("all runs, two sort keys",
                         {"", "", {"-params.train.batch_size", "metrics.eval.loss"}, 0});
    const auto want = raw.ints(
        last +
        "SELECT r.id FROM runs r JOIN params p ON p.run_id = r.id AND p.key = 'train.batch_size' "
        "JOIN last l ON l.run_id = r.id AND l.node = 'eval' AND l.key = 'loss' "
        "ORDER BY CAST(p.value AS INTEGER) DESC, l.value ASC");
    BOOST_TEST(r.rows.size() == static_cast<size_t>(kRuns));
    BOOST_TEST(r.fields.size() == 6u);  // id, experiment, name, status + 2 sort keys
    BOOST_TEST(ids_of(r) == want, tt::per_element());
  }
}

BOOST_AUTO_TEST_SUITE_END()
