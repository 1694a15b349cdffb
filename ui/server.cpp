// The dashboard's HTTP server (server.h) on cpp-httplib.
#include "ui/server.h"

#include <httplib.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nlohmann/json.hpp>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/error.h"
#include "tracking/query.h"
#include "tracking/store_errors.h"
#include "ui/assets.h"

namespace flowlab::ui {

bool is_loopback(const std::string& host) {
  std::string name = host;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "localhost") return true;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  // An address, not a name that merely starts like one ("127.evil.example" is a DNS name).
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, name.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

namespace {

void send(const Response& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [k, v] : from.headers) to.set_header(k, v);
  if (from.file.empty()) {
    to.set_content(from.body, from.content_type);
    return;
  }
  // The descriptor the API opened and checked; never the path again.
  struct stat st {};
  if (!from.file_descriptor || fstat(*from.file_descriptor, &st) != 0) {
    send(error_response(404, "the artifact's file cannot be read"), to);
    return;
  }
  to.set_content_provider(
      static_cast<size_t>(st.st_size), from.content_type,
      [fd = from.file_descriptor](size_t offset, size_t length, httplib::DataSink& sink) {
        std::vector<char> buffer(std::min<size_t>(length, 1 << 16));
        const ssize_t got = pread(*fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
        if (got <= 0) return false;
        sink.write(buffer.data(), static_cast<size_t>(got));
        return true;
      });
}

Params params_of(const httplib::Request& req) {
  Params p;
  for (const auto& [k, v] : req.params) p[k] = v;  // a repeated parameter: the last one
  return p;
}

// Whether `fd` has bytes (or an end of stream) to read right now.
bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

void close_connection(int fd) {
  shutdown(fd, SHUT_RDWR);
  close(fd);
}

// httplib's Stream over one connection, reading through a small buffer (httplib reads request
// lines a byte at a time) with its timeouts.
class ConnectionStream : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;
  ConnectionStream(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  bool has_buffered() const { return begin_ < end_; }
  /// Reads for the next request must be done by `deadline` (writes are not bounded by it).
  void start_request(Clock::time_point deadline) { read_deadline_ = deadline; }
  /// Whether a read failed because the request's deadline passed: httplib then answers 400 and
  /// would go on reading the rest as a new request; the connection must be closed instead.
  bool expired() const { return expired_; }
  bool is_readable() const override { return has_buffered() || wait_to_read(); }
  bool is_writable() const override { return wait(POLLOUT, timeout_ms_); }
  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered()) {
      if (!wait_to_read()) return -1;
      const ssize_t n = recv(fd_, buffer_, sizeof buffer_, 0);
      if (n <= 0) return n;
      begin_ = 0, end_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!wait(POLLOUT, timeout_ms_)) return -1;
    return send(fd_, ptr, size, MSG_NOSIGNAL);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address(getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address(getsockname, ip, port);
  }
  int socket() const override { return fd_; }

 private:
  bool wait(short events, int timeout_ms) const {
    pollfd p{fd_, events, 0};
    return poll(&p, 1, timeout_ms) > 0 && !(p.revents & (POLLERR | POLLNVAL));
  }
  // The read timeout, or less when the request's deadline comes first (none left: fail).
  bool wait_to_read() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(read_deadline_ - Clock::now())
            .count();
    if (left > 0 && wait(POLLIN, static_cast<int>(std::min<int64_t>(timeout_ms_, left))))
      return true;
    // Cut short by the deadline rather than by a silence of the full read timeout.
    if (left <= timeout_ms_) expired_ = true;
    return false;
  }
  void address(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    char text[INET6_ADDRSTRLEN] = "";
    port = 0;
    if (get(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
    if (a.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      port = ntohs(v6->sin6_port);
    }
    ip = text;
  }
  int fd_, timeout_ms_;
  Clock::time_point read_deadline_ = Clock::time_point::max();
  mutable bool expired_ = false;
  char buffer_[4096];
  size_t begin_ = 0, end_ = 0;
};

// Connections with nothing to read wait here, on one epoll thread, not on a worker: when bytes
// arrive `ready(fd)` takes the connection on; after `timeout_s` of silence it is closed. So
// thousands of idle connections cost descriptors, not threads, and never delay a request.
class WaitingRoom {
 public:
  WaitingRoom(double timeout_s, std::function<void(int)> ready)
      : timeout_s_(timeout_s), ready_(std::move(ready)), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    thread_ = std::thread([this] { run(); });
  }
  ~WaitingRoom() { stop(); }
  void add(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      close_connection(fd);
      return;
    }
    epoll_event e{};
    e.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    e.data.fd = fd;
    deadline_[fd] =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s_));
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &e) != 0) {
      deadline_.erase(fd);
      close_connection(fd);
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    thread_.join();
    for (const auto& [fd, when] : deadline_) close_connection(fd);
    deadline_.clear();
    close(epoll_);
  }

 private:
  using Clock = std::chrono::steady_clock;
  void run() {
    epoll_event events[256];
    for (;;) {
      const int n = epoll_wait(epoll_, events, 256, 100);
      std::vector<int> ready;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        for (int i = 0; i < n; ++i) {
          const int fd = events[i].data.fd;
          epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
          deadline_.erase(fd);
          ready.push_back(fd);
        }
        const auto now = Clock::now();
        for (auto it = deadline_.begin(); it != deadline_.end();) {
          if (it->second > now) {
            ++it;
            continue;
          }
          epoll_ctl(epoll_, EPOLL_CTL_DEL, it->first, nullptr);
          close_connection(it->first);
          it = deadline_.erase(it);
        }
      }
      for (int fd : ready) ready_(fd);
    }
  }
  const double timeout_s_;
  std::function<void(int)> ready_;
  const int epoll_;
  std::mutex mutex_;
  std::unordered_map<int, Clock::time_point> deadline_;
  bool stopping_ = false;
  std::thread thread_;
};

// httplib's server, but a worker serves a connection only while it has something to read:
// otherwise (a new connection that has sent nothing yet, or a kept-alive one between requests)
// the connection goes to the waiting room, which hands it back when bytes arrive.
class DashboardHttp : public httplib::Server {
 public:
  std::function<void(int)> park;  // set before listening
  std::chrono::seconds request_timeout{30};

  // One or more requests on a connection that has bytes to read.
  void serve_ready(int fd) {
    ConnectionStream stream(fd,
                            static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000));
    for (size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
      if (left != keep_alive_max_count_ && !stream.has_buffered() && !readable_now(fd)) {
        park(fd);
        return;
      }
      bool closed = false;
      stream.start_request(ConnectionStream::Clock::now() + request_timeout);
      if (!process_request(stream, left == 1, closed, [](httplib::Request&) {}) || closed ||
          stream.expired())
        break;
    }
    close_connection(fd);
  }

 private:
  bool process_and_close_socket(int fd) override {
    if (readable_now(fd))
      serve_ready(fd);
    else
      park(fd);
    return true;
  }
};

// The host name in a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "[::1]".
std::string host_name(const std::string& header) {
  if (!header.empty() && header[0] == '[') return header.substr(0, header.find(']') + 1);
  return header.substr(0, header.find(':'));
}

}  // namespace

struct Server::Impl {
  const Api& api;
  ServerOptions options;
  DashboardHttp http;
  httplib::ThreadPool ready_pool;  // serves connections the waiting room hands back
  WaitingRoom waiting_room;
  std::atomic<int> listen_fd{-1};
  // stop() may come before serve() has started httplib's loop (whose own stop() would then do
  // nothing and the loop would never end): these say where serve() is.
  std::atomic<bool> stop_requested{false}, serving{false}, served{false};

  Impl(const Api& a, ServerOptions o)
      : api(a),
        options(std::move(o)),
        ready_pool(static_cast<size_t>(options.threads)),
        waiting_room(options.read_timeout_s,
                     [this](int fd) { ready_pool.enqueue([this, fd] { http.serve_ready(fd); }); }) {
    http.park = [this](int fd) { waiting_room.add(fd); };
  }
  ~Impl() {
    waiting_room.stop();
    ready_pool.shutdown();
  }

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
    http.request_timeout = std::chrono::seconds(options.request_timeout_s);
    http.set_write_timeout(options.read_timeout_s * 2);
    http.set_keep_alive_timeout(options.read_timeout_s);
    const int threads = options.threads;
    http.new_task_queue = [threads] {
      return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
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
  // Every connection costs a descriptor: allow as many as the hard limit permits, so that a flood
  // of connections is queued (and answered newest first) rather than refused at accept().
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // httplib listens with a backlog of 5: bursts of new connections would be dropped.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, SOMAXCONN);
  return port;
}

void Server::serve() {
  impl_->serving = true;
  if (!impl_->stop_requested) impl_->http.listen_after_bind();
  impl_->served = true;
}

void Server::stop() {
  impl_->stop_requested = true;
  if (!impl_->serving) return;  // serve() will see stop_requested and not start
  while (!impl_->served && !impl_->http.is_running()) std::this_thread::yield();
  impl_->http.stop();
}

}  // namespace flowlab::ui
