// The dashboard over real HTTP on a loopback port (ui/server.h): what it refuses, the headers it
// sends, artifact downloads, and that oversized bodies and thousands of idle connections do not
// take it down, nor does a request trickled in byte by byte.
#include "ui/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include <arpa/inet.h>
#include <boost/test/unit_test.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "tests/support/ui_fixture.h"

using flowlab::testing::UiFixture;
using json = nlohmann::json;
namespace ui = flowlab::ui;

namespace {

struct HttpFixture : UiFixture {
  ui::Api api{ui::ApiOptions{store, {workspace}}};
  ui::Server server{api, ui::ServerOptions{"127.0.0.1", 0, 8, 1 << 20, 1}};
  int port = server.bind();
  std::thread thread{[this] { server.serve(); }};
  httplib::Client client{"127.0.0.1", port};

  HttpFixture() { client.set_read_timeout(10, 0); }
  ~HttpFixture() {
    server.stop();
    thread.join();
  }
  std::string path_of_run(int64_t id) const { return "/api/runs/" + std::to_string(id); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ui_server)

BOOST_FIXTURE_TEST_CASE(serves_the_page_and_the_api_with_security_headers, HttpFixture) {
  auto page = client.Get("/");
  BOOST_TEST_REQUIRE(static_cast<bool>(page));
  BOOST_TEST(page->status == 200);
  BOOST_TEST(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  BOOST_TEST(page->body.find("/static/app.js") != std::string::npos);
  const std::string csp = page->get_header_value("Content-Security-Policy");
  BOOST_TEST(csp.find("script-src 'self'") != std::string::npos);  // no inline script
  BOOST_TEST(page->get_header_value("X-Content-Type-Options") == "nosniff");
  BOOST_TEST(page->get_header_value("X-Frame-Options") == "DENY");
  BOOST_TEST(client.Get("/static/app.js")->status == 200);
  BOOST_TEST(client.Get("/static/nothing.js")->status == 404);

  auto runs = client.Get("/api/runs?limit=2");
  BOOST_TEST(runs->status == 200);
  BOOST_TEST(json::parse(runs->body)["runs"].size() == 2u);
  auto bad = client.Get("/api/runs?filter=name%20%3D");  // "name ="
  BOOST_TEST(bad->status == 400);
  BOOST_TEST(json::parse(bad->body)["position"].get<int>() == 6);
  BOOST_TEST(client.Get("/api/runs/99999")->status == 404);
}

BOOST_FIXTURE_TEST_CASE(only_get_is_answered, HttpFixture) {
  std::vector<httplib::Result> answers;
  answers.push_back(client.Post("/api/runs", "{}", "application/json"));
  answers.push_back(client.Put(path_of_run(baseline), "{}", "application/json"));
  answers.push_back(client.Delete(path_of_run(baseline)));
  answers.push_back(client.Patch("/", "x", "text/plain"));
  for (const auto& r : answers) {
    BOOST_TEST_REQUIRE(static_cast<bool>(r));
    BOOST_TEST(r->status == 405);
    BOOST_TEST(r->get_header_value("Allow") == "GET, HEAD");
  }
  BOOST_TEST(client.Get(path_of_run(baseline))->status == 200);  // still there
}

BOOST_AUTO_TEST_CASE(loopback_means_a_loopback_address_or_localhost) {
  for (const char* yes : {"127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost", "LocalHost"})
    BOOST_TEST(ui::is_loopback(yes), yes);
  // Names that only look like one are DNS names an attacker may own.
  for (const char* no : {"127.evil.example", "localhost.evil.example", "10.0.0.1", "0.0.0.0", "",
                         "[::2]", "128.0.0.1"})
    BOOST_TEST(!ui::is_loopback(no), no);
}

BOOST_FIXTURE_TEST_CASE(loopback_server_answers_loopback_host_names_only, HttpFixture) {
  // A web page elsewhere reaching 127.0.0.1 through its own DNS name (rebinding) sends its Host.
  auto evil = client.Get("/api/runs", {{"Host", "attacker.example:" + std::to_string(port)}});
  BOOST_TEST_REQUIRE(static_cast<bool>(evil));
  BOOST_TEST(evil->status == 403);
  auto local = client.Get("/api/runs", {{"Host", "localhost:" + std::to_string(port)}});
  BOOST_TEST(local->status == 200);
}

BOOST_FIXTURE_TEST_CASE(artifacts_download_only_registered_files, HttpFixture) {
  auto ok = client.Get(path_of_run(baseline) +
                       "/artifact?path=" + httplib::detail::encode_query_param(model.string()));
  BOOST_TEST_REQUIRE(static_cast<bool>(ok));
  BOOST_TEST(ok->status == 200);
  BOOST_TEST(ok->body == model_bytes);
  BOOST_TEST(ok->get_header_value("Content-Disposition") == "attachment; filename=\"model.pt\"");
  for (const auto& p : {link_out.string(), outside.string(), dotdot.string()}) {
    auto r = client.Get(path_of_run(baseline) +
                        "/artifact?path=" + httplib::detail::encode_query_param(p));
    BOOST_TEST(r->status == 403, p);
    BOOST_TEST(r->body.find("not for the browser") == std::string::npos);
  }
  for (const std::string p : {"../../../etc/passwd", "/etc/passwd", "runs.db"}) {
    auto r = client.Get(path_of_run(baseline) +
                        "/artifact?path=" + httplib::detail::encode_query_param(p));
    BOOST_TEST(r->status == 404, p);
  }
  // Traversal in the URL path itself reaches no file either.
  auto r = client.Get("/static/../../../../etc/passwd");
  BOOST_TEST((!r || r->status == 404 || r->status == 400));
}

BOOST_FIXTURE_TEST_CASE(a_ten_megabyte_body_is_refused_and_the_server_goes_on, HttpFixture) {
  const std::string big(10 << 20, 'x');
  auto r = client.Post("/api/runs", big, "application/octet-stream");
  // Refused (413) before the body is read; or the connection is closed on the sender.
  if (r) BOOST_TEST(r->status == 413);
  httplib::Client again("127.0.0.1", port);
  BOOST_TEST(again.Get("/api/runs")->status == 200);
}

BOOST_FIXTURE_TEST_CASE(ten_thousand_idle_connections_do_not_block_requests, HttpFixture) {
  // The idle connections come from another process (a browser or attacker elsewhere): its
  // descriptors are its own. It opens them, says how many, and waits to be killed.
  int ready[2];
  BOOST_TEST_REQUIRE(pipe(ready) == 0);
  const pid_t child = fork();
  BOOST_TEST_REQUIRE(child >= 0);
  if (child == 0) {
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
    const int n = static_cast<int>(std::min<rlim_t>(10000, files.rlim_cur - 64));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int opened = 0;
    for (int i = 0; i < n; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (fd < 0) break;
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS: fine
      ++opened;
    }
    (void)!write(ready[1], &opened, sizeof opened);
    pause();
    _exit(0);
  }
  // Killed however the test ends (a failed REQUIRE throws).
  struct KillOnExit {
    pid_t pid;
    ~KillOnExit() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reaper{child};
  close(ready[1]);
  int opened = 0;
  BOOST_TEST_REQUIRE(read(ready[0], &opened, sizeof opened) == static_cast<ssize_t>(sizeof opened));
  close(ready[0]);
  BOOST_TEST_MESSAGE("another process holds " << opened << " idle connections");
  BOOST_TEST(opened >= 10000);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Real requests still get their answers within a few read timeouts (1 s here).
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    httplib::Client fresh("127.0.0.1", port);
    fresh.set_connection_timeout(10, 0);
    fresh.set_read_timeout(10, 0);
    auto r = fresh.Get("/api/runs?limit=1");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST_REQUIRE(static_cast<bool>(r), "request " << i << ": "
                                                        << httplib::to_string(r.error())
                                                        << " after " << seconds << " s");
    BOOST_TEST(r->status == 200);
    BOOST_TEST(seconds < 4.0);
  }
  BOOST_TEST(client.Get("/api/runs")->status == 200);
}

BOOST_AUTO_TEST_CASE(a_request_trickled_byte_by_byte_is_cut_off_at_its_deadline) {
  // Slowloris: a header line every 0.2 s is never silent for the 5 s read timeout, so without a
  // deadline for the whole request it would hold a worker for as long as it likes.
  UiFixture data;
  ui::Api api{ui::ApiOptions{data.store, {data.workspace}}};
  ui::ServerOptions options{"127.0.0.1", 0, 2, 1 << 20, 5};
  options.request_timeout_s = 2;
  ui::Server server{api, options};
  const int port = server.bind();
  std::thread serving{[&] { server.serve(); }};
  struct StopOnExit {
    ui::Server& server;
    std::thread& thread;
    ~StopOnExit() {
      server.stop();
      thread.join();
    }
  } stopper{server, serving};

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  BOOST_TEST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_TEST_REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string head = "GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  BOOST_TEST_REQUIRE(send(fd, head.data(), head.size(), MSG_NOSIGNAL) ==
                     static_cast<ssize_t>(head.size()));
  const auto t0 = std::chrono::steady_clock::now();
  double closed_after = -1;
  for (int i = 0; i < 50 && closed_after < 0; ++i) {  // 10 s of trickling at most
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      char buffer[4096];
      if (recv(fd, buffer, sizeof buffer, 0) <= 0)
        closed_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      continue;
    }
    const std::string line = "X-Slow-" + std::to_string(i) + ": y\r\n";
    if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) < 0)
      closed_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  close(fd);
  BOOST_TEST_MESSAGE("the trickling connection was closed after " << closed_after << " s");
  BOOST_TEST(closed_after >= 1.5);  // not before its deadline (2 s)...
  BOOST_TEST(closed_after < 5.0);   // ...but before a read timeout could have closed it
  // And a normal request is answered.
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  auto r = client.Get("/api/runs?limit=1");
  BOOST_TEST_REQUIRE(static_cast<bool>(r));
  BOOST_TEST(r->status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
