// Terminal progress: per-node lines for small graphs, one overall line for large ones (a sweep of
// thousands of nodes must not print tens of thousands of lines), failures always named.
#include "experiments/cli/progress.h"

#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

using flowlab::cli::ProgressPrinter;

namespace {
bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(experiments_progress)

BOOST_AUTO_TEST_CASE(small_graphs_print_a_line_per_node) {
  std::ostringstream out;
  {
    ProgressPrinter p(out, /*quiet=*/false, 2, /*tty=*/false);
    p.started("data", "dataset.dsd");
    p.finished("data", "FINISHED", 0.5, "");
    p.started("train", "train.dsd");
    p.finished("train", "CACHED", 0.0, "");
  }
  BOOST_TEST(contains(out.str(), "  > data (dataset.dsd)\n"));
  BOOST_TEST(contains(out.str(), "  ok data FINISHED in 0.50 s\n"));
  BOOST_TEST(contains(out.str(), "  ok train CACHED in 0.00 s  (reused from cache)\n"));
}

BOOST_AUTO_TEST_CASE(large_graphs_print_one_overall_line_and_name_failures) {
  // Not a terminal: the overall line is printed every 10 s, after a failure and at the end.
  const size_t total = ProgressPrinter::kCompactAbove + 60;
  std::ostringstream out;
  {
    ProgressPrinter p(out, /*quiet=*/false, total, /*tty=*/false);
    for (size_t i = 0; i < total; ++i) {
      const std::string node = "train[" + std::to_string(i) + "]";
      p.started(node, "train.dsd");
      p.update(node, 0.5, "step 100/200");
      p.finished(node, i == 7 ? "FAILED" : "FINISHED", 0.01, i == 7 ? "loss is NaN" : "");
    }
  }
  const std::string s = out.str();
  BOOST_TEST(!contains(s, " > "));
  BOOST_TEST(!contains(s, "step 100/200"));
  BOOST_TEST(contains(s, "!! train[7] FAILED"));
  BOOST_TEST(!contains(s, "ok train[8]"));
  BOOST_TEST(
      contains(s, "] 8/" + std::to_string(total) + " nodes, 1 failed"));  // right after the failure
  BOOST_TEST(contains(s, "[####################] " + std::to_string(total) + "/" +
                             std::to_string(total) + " nodes, 1 failed"));
  BOOST_TEST(lines(s) <= 4u, s);
}

BOOST_AUTO_TEST_CASE(an_interrupted_sweep_counts_skipped_and_killed_nodes_without_naming_them) {
  // One node fails, its 500 dependents are skipped, Ctrl-C kills 499 more; 25 more failures are
  // counted and only the first 20 named.
  const size_t total = 1025;
  std::ostringstream out;
  {
    ProgressPrinter p(out, /*quiet=*/false, total, /*tty=*/false);
    p.finished("data[0]", "FAILED", 0.1, "cannot read /nope");
    for (int i = 0; i < 500; ++i)
      p.finished("train[" + std::to_string(i) + "]", "SKIPPED", 0, "input data[0] failed");
    for (int i = 0; i < 499; ++i)
      p.finished("t[" + std::to_string(i) + "]", "KILLED", 0, "interrupted");
    for (int i = 0; i < 25; ++i) p.finished("f[" + std::to_string(i) + "]", "FAILED", 0, "boom");
  }
  const std::string s = out.str();
  BOOST_TEST(contains(s, "!! data[0] FAILED"));
  BOOST_TEST(contains(s, "!! f[18] FAILED"));  // the 20th failure
  BOOST_TEST(!contains(s, "!! f[19] FAILED"));
  BOOST_TEST(!contains(s, "SKIPPED in"));
  BOOST_TEST(!contains(s, "KILLED in"));
  BOOST_TEST(!contains(s, "interrupted"));
  BOOST_TEST(contains(s, "1025/1025 nodes, 26 failed, 500 skipped, 499 killed"));
  BOOST_TEST(lines(s) <= 60u, s.substr(0, 2000));
}

BOOST_AUTO_TEST_CASE(quiet_prints_failures_only) {
  std::ostringstream out;
  {
    ProgressPrinter p(out, /*quiet=*/true, 100, /*tty=*/false);
    for (int i = 0; i < 100; ++i)
      p.finished("n" + std::to_string(i), i == 3 ? "FAILED" : "FINISHED", 0.0,
                 i == 3 ? "boom" : "");
  }
  BOOST_TEST(contains(out.str(), "!! n3 FAILED"));
  BOOST_TEST(!contains(out.str(), "nodes"));
}

BOOST_AUTO_TEST_SUITE_END()
