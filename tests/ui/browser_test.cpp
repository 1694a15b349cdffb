// The dashboard in a real browser: `flowlab ui` (the installed program, started here on a free
// loopback port) over a store with known answers (tests/support/ui_fixture.h), loaded by headless
// Chromium. Each page's DOM, after its scripts ran, is checked against the store (and the runs
// table against `flowlab query`'s answer to the same filter); any JavaScript error fails the test;
// screenshots of each view land in $FLOWLAB_SCREENSHOT_DIR (the README shows them).
//
// Run by ctest as `ui_browser` (FLOWLAB_BINARY may name another flowlab program). Exits 77 (ctest:
// skipped, with the reason) when Chromium is not installed.
#define BOOST_TEST_MODULE flowlab_ui_browser
#define BOOST_TEST_NO_MAIN
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <sys/wait.h>

#include "tests/support/ui_fixture.h"
#include "tracking/query.h"
#include "tracking/read_only_db.h"

namespace fs = std::filesystem;
using flowlab::testing::UiFixture;

namespace {

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Percent-encodes everything but unreserved characters (for a filter in the page's URL).
std::string url_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// `flowlab ui --port 0` over the fixture's workspace, stopped with Ctrl-C (SIGINT) at the end.
class UiProcess {
 public:
  explicit UiProcess(const fs::path& workspace) {
    // ctest sets FLOWLAB_BINARY; run by hand, the program built beside this test.
    const char* binary = std::getenv("FLOWLAB_BINARY");
    if (!binary) binary = FLOWLAB_BINARY_BUILT;
    int out[2];
    BOOST_TEST_REQUIRE(pipe(out) == 0);
    pid_ = fork();
    BOOST_TEST_REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      unsetenv("FLOWLAB_STORE");
      execl(binary, binary, "ui", "--workspace", workspace.c_str(), "--port", "0", nullptr);
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
    char line[4096];
    BOOST_TEST_REQUIRE(std::fgets(line, sizeof line, out_) != nullptr,
                       "flowlab ui printed nothing");
    banner_ = line;
    std::smatch m;
    BOOST_TEST_REQUIRE(std::regex_search(banner_, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")),
                       banner_);
    port_ = std::stoi(m[1]);
  }
  ~UiProcess() {
    if (pid_ > 0) stop();
    if (out_) fclose(out_);
  }
  std::string url(const std::string& hash = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + hash;
  }
  // Ctrl-C: returns the exit status and what it printed after the banner.
  std::pair<int, std::string> stop() {
    kill(pid_, SIGINT);
    std::string rest;
    char line[4096];
    while (std::fgets(line, sizeof line, out_)) rest += line;
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), rest};
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string banner_;
  int port_ = 0;
};

// One headless Chromium load: the DOM after the page's scripts ran (or a screenshot), and what
// Chromium logged (console messages, uncaught errors).
struct Load {
  std::string dom, log;
};

Load chromium(const std::vector<std::string>& args, const std::string& url, const fs::path& work) {
  static int n = 0;
  const fs::path log = work / ("chromium-" + std::to_string(++n) + ".log");
  std::string cmd = chromium_path() +
                    " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
                    "--no-first-run --hide-scrollbars --enable-logging=stderr --v=0 "
                    "--user-data-dir=" +
                    (work / "profile").string() + " --virtual-time-budget=10000";
  for (const auto& a : args) cmd += " " + a;
  cmd += " '" + url + "' 2>" + log.string();
  Load out;
  FILE* p = popen(cmd.c_str(), "r");
  BOOST_TEST_REQUIRE(p != nullptr);
  std::array<char, 65536> buf{};
  size_t got = 0;
  while ((got = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.dom.append(buf.data(), got);
  const int status = pclose(p);
  out.log = read_file(log);
  BOOST_TEST(status == 0, "chromium failed on " << url << ":\n" << out.log);
  return out;
}

// The checks every page load gets: the view finished rendering, and no JavaScript error reached
// the page's error banner or Chromium's console log.
void expect_clean(const Load& load, const std::string& view, const std::string& url) {
  BOOST_TEST(load.dom.find("data-ready=\"" + view + "\"") != std::string::npos,
             url << " did not finish rendering " << view);
  BOOST_TEST(
      load.dom.find("id=\"js-errors\" class=\"errors\" hidden=\"\"></div>") != std::string::npos,
      url << " shows a JavaScript error:\n"
          << load.dom.substr(0, 2000));
  for (const char* bad :
       {"Uncaught", "SyntaxError", "TypeError", "ReferenceError", "Content Security Policy"})
    BOOST_TEST(load.log.find(bad) == std::string::npos, url << ": chromium logged " << bad << ":\n"
                                                            << load.log);
}

// The run ids of the runs table's rows, top to bottom.
std::vector<int64_t> table_ids(const std::string& dom) {
  std::vector<int64_t> ids;
  const std::regex row(R"re(<tr[^>]*data-run-id="(\d+)")re");
  for (std::sregex_iterator it(dom.begin(), dom.end(), row), end; it != end; ++it)
    ids.push_back(std::stoll((*it)[1]));
  return ids;
}

fs::path screenshot_dir() {
  const char* dir = std::getenv("FLOWLAB_SCREENSHOT_DIR");
  fs::path p = dir ? fs::path(dir) : fs::current_path() / "ui-screenshots";
  fs::create_directories(p);
  return p;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct BrowserFixture : UiFixture {
  UiProcess ui{workspace};
  fs::path work = dir / "browser";
  BrowserFixture() { fs::create_directories(work); }
  Load load(const std::string& hash, const std::string& view) {
    const std::string url = ui.url(hash);
    Load l = chromium({"--dump-dom"}, url, work);
    expect_clean(l, view, url);
    return l;
  }
  void screenshot(const std::string& hash, const std::string& name, int height) {
    const fs::path png = screenshot_dir() / name;
    fs::remove(png);
    chromium({"--window-size=1400," + std::to_string(height), "--screenshot=" + png.string()},
             ui.url(hash), work);
    BOOST_TEST(fs::exists(png));
    BOOST_TEST(read_file(png).substr(1, 3) == "PNG");
  }
};

}  // namespace

int main(int argc, char* argv[]) {
  if (chromium_path().empty()) {
    std::cout << "SKIPPED: Chromium is not installed (./dev.sh setup installs Debian's chromium)\n";
    return 77;
  }
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

BOOST_AUTO_TEST_SUITE(ui_browser)

BOOST_FIXTURE_TEST_CASE(runs_table_matches_the_store_and_flowlab_query, BrowserFixture) {
  // No filter: the top-level runs, newest first, the sweep folded with its 6 children.
  Load page = load("#/", "runs");
  const std::vector<int64_t> top{bad_utf8, stale, hostile, sweep, baseline};
  BOOST_TEST(table_ids(page.dom) == top, boost::test_tools::per_element());
  BOOST_TEST(contains(page.dom, "▸ 6 runs"));
  BOOST_TEST(contains(page.dom, "<span class=\"status STALE\">STALE</span>"));
  BOOST_TEST(contains(page.dom, "1–5 of 5 top-level runs"));

  // A filter in the box gives exactly what `flowlab query` gives.
  for (const std::string filter : {"metrics.eval.accuracy > 0.75", "params.seed = 1",
                                   "status = 'FAILED' or name LIKE '%stale%'"}) {
    page = load("#/?filter=" + url_encode(filter), "runs");
    const auto expected = query_ids(filter);
    BOOST_TEST(!expected.empty());
    BOOST_TEST(table_ids(page.dom) == expected, boost::test_tools::per_element());
  }
  // Sorted by a metric column: the sweep's best child first.
  page = load("#/?filter=" + url_encode("metrics.eval.accuracy > 0") +
                  "&sort=" + url_encode("-metrics.`eval`.`accuracy`"),
              "runs");
  BOOST_TEST_REQUIRE(!table_ids(page.dom).empty());
  BOOST_TEST(table_ids(page.dom).front() == children.back());
  BOOST_TEST(contains(page.dom, "accuracy ▼"));

  // A malformed filter: the caret message under the box, no rows.
  page = load("#/?filter=" + url_encode("metrics.eval.accuracy >> 1"), "runs-error");
  BOOST_TEST(contains(page.dom, "id=\"filter-error\">"));
  BOOST_TEST(contains(page.dom, "^"));
  BOOST_TEST(table_ids(page.dom).empty());

  // A filter naming a metric no run has: the did-you-mean under the box.
  page = load("#/?filter=" + url_encode("metrics.eval.acuracy > 0.5"), "runs");
  BOOST_TEST(contains(page.dom, "did you mean metrics.eval.accuracy?"));

  screenshot("#/", "runs.png", 700);
}

BOOST_FIXTURE_TEST_CASE(html_in_names_params_and_errors_is_shown_as_text, BrowserFixture) {
  for (const auto& [hash, view] : std::vector<std::pair<std::string, std::string>>{
           {"#/", "runs"}, {"#/run/" + std::to_string(hostile), "run"}}) {
    const Load page = load(hash, view);
    // The markup arrives as text: escaped in the DOM, no element made of it, no script run.
    BOOST_TEST(contains(page.dom,
                        "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;b "
                        "id=\"injected\"&gt;bold&lt;/b&gt;"),
               hash);
    BOOST_TEST(!contains(page.dom, "<b id=\"injected\">"), hash);
    BOOST_TEST(contains(page.dom, "<title>flowlab</title>"), hash);
  }
  const Load run = load("#/run/" + std::to_string(hostile), "run");
  BOOST_TEST(contains(run.dom, "&lt;script&gt;alert(1)&lt;/script&gt; node train failed"));
  BOOST_TEST(contains(run.dom, "&lt;i&gt;mallory&lt;/i&gt;"));
  BOOST_TEST(!contains(run.dom, "<img src=\"x\""));
}

BOOST_FIXTURE_TEST_CASE(run_page_shows_the_recorded_run, BrowserFixture) {
  const Load page = load("#/run/" + std::to_string(baseline), "run");
  BOOST_TEST(contains(page.dom, "<span id=\"run-name\">baseline</span>"));
  BOOST_TEST(contains(page.dom, "<td>train.lr</td><td class=\"\">0.1</td>"));
  BOOST_TEST(contains(page.dom, "<td>eval.accuracy</td><td class=\"num\">0.81</td>"));
  BOOST_TEST(contains(page.dom, "<td>train.loss</td><td class=\"num\">0.001</td>"));
  // Two nodes on the timeline, the cached one marked; the loss curve drawn.
  const std::regex lane(R"(class="lane"[^>]*data-node=")");
  BOOST_TEST(std::distance(std::sregex_iterator(page.dom.begin(), page.dom.end(), lane),
                           std::sregex_iterator()) == 2);
  BOOST_TEST(contains(page.dom, "bar FINISHED cached"));
  BOOST_TEST(contains(page.dom, "id=\"history-chart\""));
  BOOST_TEST(contains(page.dom, "data-loaded=\"1\""));
  // Artifacts: only the servable one is a download link.
  BOOST_TEST(contains(page.dom, "download=\"model.pt\""));
  BOOST_TEST(!contains(page.dom, "download=\"link.pt\""));
  BOOST_TEST(!contains(page.dom, "download=\"secret.txt\""));
  BOOST_TEST(contains(page.dom, "<span class=\"y-key\">nodes:</span>"));  // the spec, highlighted
  screenshot("#/run/" + std::to_string(baseline), "run.png", 1000);
}

BOOST_FIXTURE_TEST_CASE(sweep_chart_and_compare, BrowserFixture) {
  const Load page = load("#/run/" + std::to_string(sweep), "run");
  BOOST_TEST(contains(page.dom, "Sweep: 6 runs"));
  BOOST_TEST(contains(page.dom, "id=\"sweep-chart\""));
  BOOST_TEST(contains(page.dom, "data-loaded=\"1\""));
  screenshot("#/run/" + std::to_string(sweep), "sweep.png", 760);

  const std::string ids = std::to_string(children[0]) + "," + std::to_string(children[5]);
  const Load compare = load("#/compare?runs=" + url_encode(ids), "compare");
  BOOST_TEST(
      contains(compare.dom, "<tr class=\"differs\" data-field=\"params.data.limit_train\">"));
  BOOST_TEST(!contains(compare.dom, "data-field=\"params.train.lr\""));  // equal: left out
  BOOST_TEST(contains(compare.dom, "data-field=\"metrics.eval.accuracy\""));
  screenshot("#/compare?runs=" + url_encode(ids), "compare.png", 900);
}

BOOST_FIXTURE_TEST_CASE(ctrl_c_stops_the_server_cleanly, BrowserFixture) {
  const auto [status, output] = ui.stop();
  BOOST_TEST(status == 0);
  BOOST_TEST(contains(output, "flowlab ui: stopped"));
}

BOOST_AUTO_TEST_SUITE_END()
