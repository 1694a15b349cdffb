// The two programs behind `flowlab` (experiments/cli/engine_dispatch.h), run as a user runs them:
// the front answers database commands without LibTorch and hands the others to flowlab-engine.
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/support/shell_command.h"
#include "tests/support/temp_dir.h"
#include "tracking/store.h"

namespace {

using flowlab::testing::contains;
using flowlab::testing::run_shell_command;

const std::string kFront = FLOWLAB_BINARY;
const std::string kEngine = FLOWLAB_ENGINE_BINARY;

// A workspace holding an empty results database, for `flowlab runs`.
struct EmptyWorkspace {
  flowlab::testing::TempDir dir;
  EmptyWorkspace() { flowlab::tracking::Store store(dir / "runs.db"); }
  std::string flag() const { return " --workspace " + dir.path().string(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(front_program)

BOOST_AUTO_TEST_CASE(the_front_links_no_libtorch_and_the_engine_does) {
  const auto front = run_shell_command("ldd " + kFront);
  const auto engine = run_shell_command("ldd " + kEngine);
  BOOST_REQUIRE(front.code == 0);
  BOOST_REQUIRE(engine.code == 0);
  BOOST_TEST(!contains(front.output, "libtorch"), front.output);
  BOOST_TEST(!contains(front.output, "libc10"), front.output);
  BOOST_TEST(contains(engine.output, "libtorch"));  // the check would see torch if it were there
}

BOOST_AUTO_TEST_CASE(database_commands_answer_in_the_front_and_the_others_in_the_engine) {
  EmptyWorkspace ws;
  const auto runs = run_shell_command(kFront + " runs" + ws.flag());
  BOOST_TEST(runs.code == 0, runs.output);
  // `ops` needs the registry: only the engine has it.
  const auto ops = run_shell_command(kFront + " ops");
  BOOST_TEST(ops.code == 0, ops.output);
  BOOST_TEST(contains(ops.output, "train.classifier"));
  // A subcommand's help comes from the program that runs it.
  const auto help = run_shell_command(kFront + " run --help");
  BOOST_TEST(help.code == 0, help.output);
  BOOST_TEST(contains(help.output, "--no-cache"));
  // The top-level help lists both kinds, with the engine's help lines.
  const auto top = run_shell_command(kFront + " --help");
  BOOST_TEST(top.code == 0, top.output);
  for (const char* line : {"compose a spec, run its graph, record everything",
                           "recent runs, newest first", "list the ops, or show one op's params"})
    BOOST_TEST(contains(top.output, line), line);
}

BOOST_AUTO_TEST_CASE(a_missing_engine_is_a_clear_error_naming_where_it_looked) {
  const auto r = run_shell_command("FLOWLAB_ENGINE=/nonexistent/flowlab-engine " + kFront + " ops");
  BOOST_TEST(r.code == 1);
  BOOST_TEST(contains(r.output, "/nonexistent/flowlab-engine"), r.output);
  BOOST_TEST(contains(r.output, "flowlab ops"), r.output);
  BOOST_TEST(contains(r.output, "No such file"), r.output);
  // Database commands do not need it.
  EmptyWorkspace ws;
  const auto runs = run_shell_command("FLOWLAB_ENGINE=/nonexistent/flowlab-engine " + kFront +
                                      " runs" + ws.flag());
  BOOST_TEST(runs.code == 0, runs.output);
}

BOOST_AUTO_TEST_SUITE_END()
