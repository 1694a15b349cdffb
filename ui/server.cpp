// The dashboard's HTTP server (server.h) on cpp-httplib.
#include "ui/server.h"

#include <httplib.h>

#include <atomic>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

#include "common/error.h"
#include "tracking/query.h"
#include "tracking/store_errors.h"
#include "ui/assets.h"

namespace flowlab::ui {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

namespace {

void send(const Response& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [k, v] : from.headers) to.set_header(k, v);
  if (from.file.empty()) {
    to.set_content(from.body, from.content_type);
    return;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(from.file, ec);
  auto in = std::make_shared<std::ifstream>(from.file, std::ios::binary);
  if (ec || !*in) {
    send(error_response(404, "the artifact's file cannot be read"), to);
    return;
  }
  to.set_content_provider(size, from.content_type,
                          [in](size_t offset, size_t length, httplib::DataSink& sink) {
                            std::vector<char> buffer(std::min<size_t>(length, 1 << 16));
                            in->seekg(static_cast<std::streamoff>(offset));
                            in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                            const auto got = static_cast<size_t>(in->gcount());
                            if (got == 0) return false;
                            sink.write(buffer.data(), got);
                            return true;
                          });
}

Params params_of(const httplib::Request& req) {
  Params p;
  for (const auto& [k, v] : req.params) p[k] = v;  // a repeated parameter: the last one
  return p;
}

// The host name in a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "[::1]".
std::string host_name(const std::string& header) {
  if (!header.empty() && header[0] == '[') return header.substr(0, header.find(']') + 1);
  return header.substr(0, header.find(':'));
}

}  // namespace

struct Server::Impl {
  const Api& api;
  ServerOptions options;
  httplib::Server http;
  std::atomic<int> listen_fd{-1};

  Impl(const Api& a, ServerOptions o) : api(a), options(std::move(o)) {}

  // Runs an API call and turns whatever it throws into an answer.
  template <typename Call>
  void answer(httplib::Response& res, Call call) {
    Response r;
    try {
      r = call();
    } catch (...) {
      r = error_response_for(std::current_exception());
    }
    send(r, res);
  }

  void routes() {
    for (const auto& asset : web_assets()) {
      const Asset* a = &asset;
      http.Get(a->url, [a](const httplib::Request&, httplib::Response& res) {
        res.set_content(a->body, a->content_type);
      });
    }
    http.Get("/api/runs", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] { return api.runs(params_of(req)); });
    });
    http.Get(R"(/api/runs/(\d{1,18}))",
             [this](const httplib::Request& req, httplib::Response& res) {
               answer(res, [&] { return api.run(std::stoll(req.matches[1])); });
             });
    http.Get(R"(/api/runs/(\d{1,18})/artifact)",
             [this](const httplib::Request& req, httplib::Response& res) {
               answer(res, [&] {
                 return api.artifact(std::stoll(req.matches[1]), req.get_param_value("path"));
               });
             });
    http.Get("/api/chart/history.svg", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] { return api.history_chart(params_of(req)); });
    });
    http.Get("/api/chart/sweep.svg", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] { return api.sweep_chart(params_of(req)); });
    });
    http.Get("/api/compare", [this](const httplib::Request& req, httplib::Response& res) {
      answer(res, [&] { return api.compare(params_of(req)); });
    });
    // The dashboard only reads: every other method is refused, whatever the path.
    auto refuse = [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Allow", "GET, HEAD");
      send(error_response(405, "the dashboard is read-only: only GET is answered"), res);
    };
    http.Post(".*", refuse).Put(".*", refuse).Patch(".*", refuse).Delete(".*", refuse);
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) {
        const std::string what = res.status == 404   ? "no such page"
                                 : res.status == 413 ? "the request body is too large"
                                                     : "the request was refused";
        send(error_response(res.status, what), res);
      }
    });
  }

  void hardening() {
    const bool loopback = is_loopback(options.host);
    http.set_pre_routing_handler([loopback](const httplib::Request& req, httplib::Response& res) {
      // A page on another site cannot reach a loopback dashboard through a DNS name it controls:
      // a loopback server answers loopback Host names only.
      if (loopback && !is_loopback(host_name(req.get_header_value("Host")))) {
        send(error_response(403, "this dashboard answers requests to localhost only"), res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                     "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                     "form-action 'none'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("X-Frame-Options", "DENY");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("Cache-Control", "no-store");
    });
    http.set_payload_max_length(options.max_body_bytes);
    http.set_read_timeout(options.read_timeout_s);
    http.set_write_timeout(options.read_timeout_s * 2);
    http.set_keep_alive_timeout(options.read_timeout_s);
    const int threads = options.threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_socket_options([this](int fd) {
      int yes = 1;
      // SO_REUSEADDR (not httplib's SO_REUSEPORT): a second dashboard on a busy port fails.
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      // The kernel hands over a connection only once it has sent data: thousands of idle
      // connections then never reach (or hold) a worker thread.
      int defer_seconds = options.read_timeout_s;
      setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds);
      listen_fd = fd;
    });
  }
};

Server::Server(const Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {
  impl_->routes();
  impl_->hardening();
}

Server::~Server() { stop(); }

int Server::bind() {
  const auto& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
    if (port < 0) throw std::runtime_error(fmt::format("cannot listen on {}", o.host));
  } else if (!impl_->http.bind_to_port(o.host, port)) {
    throw std::runtime_error(fmt::format(
        "cannot listen on {}:{} (in use, or not an address of this machine); --port picks another",
        o.host, port));
  }
  // httplib listens with a backlog of 5: bursts of new connections would be dropped.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return port;
}

void Server::serve() { impl_->http.listen_after_bind(); }

void Server::stop() {
  if (impl_->http.is_running()) impl_->http.stop();
}

}  // namespace flowlab::ui
