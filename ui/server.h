#pragma once
// The dashboard's HTTP server: the embedded page (assets.h) and the JSON API (api.h) on
// cpp-httplib. GET only (anything else is 405), bodies over 1 MB refused (413), security headers
// on every answer (a Content-Security-Policy that allows no inline script, nosniff, no framing),
// and when bound to loopback, only requests whose Host is a loopback name (DNS rebinding).
// Connections with nothing to read wait on one epoll thread, not on a worker (and those that never
// send anything mostly wait in the kernel: TCP_DEFER_ACCEPT), so thousands of idle connections
// cost descriptors, not threads, and do not delay a request.
#include <memory>
#include <string>

#include "ui/api.h"

namespace flowlab::ui {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests)
  int threads = 16;
  size_t max_body_bytes = 1 << 20;
  int read_timeout_s = 5;  // the longest silence while a request arrives
  /// The longest a request's head and body may take to arrive in all: a client that sends a
  /// byte now and then (never silent for read_timeout_s) is cut off after this, not served a
  /// worker forever ("slowloris").
  int request_timeout_s = 30;
};

/// Whether `host` only listens on this machine: 127.0.0.0/8, ::1 or "localhost".
bool is_loopback(const std::string& host);

class Server {
 public:
  Server(const Api& api, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens; returns the port (the chosen one for port 0). Throws std::runtime_error
  /// when the address cannot be bound (in use, not local).
  int bind();
  /// Answers requests until stop(); REQUIRES bind().
  void serve();
  /// From any thread: serve() returns once requests in flight are answered.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlab::ui
