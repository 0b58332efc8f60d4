// The HTTP/1.1 front door: OCSP, CRLs, /healthz, /readyz and /metrics over plain HTTP.
//
// Built on h2o 2.2.5 (libh2o-evloop): `threads` event loops, each with its own listening socket
// on the same port (SO_REUSEPORT; the kernel spreads connections over them), TCP_NODELAY,
// keep-alive and pipelining. Slow clients only cost their own connection. h2o parses HTTP/1.1;
// this layer routes (Router), answers 404/405/304/HEAD itself and writes handler bodies without
// copying them. HTTP/2 is off (no h2c upgrade).
//
// SO_REUSEPORT caveat: another process of the same user can bind the same port with SO_REUSEPORT
// and silently take a share of the connections; reuse_port = false refuses a port in use.
//
// Limits and what clients see:
// - Request bodies over max_request_body: 413, and the connection is closed after it.
// - Malformed requests, more than 100 header fields, or a request head (request line and header
//   fields) over h2o's H2O_MAX_REQLEN (about 408 KiB): 400, and the connection is closed.
// - idle_timeout bounds both the wait for the next request on a keep-alive connection and the
//   time to receive one whole request (h2o's single request timeout).
// - write_stall_timeout closes a connection whose peer acknowledges no bytes of a response being
//   written for one to two such periods, so a client that stops reading (a CRL, or the answers to
//   requests it pipelined) does not hold the connection forever.
// - Other methods than GET, HEAD and POST: 405 with Allow.
//
// Handlers run on the event-loop threads (see http_message.h: they must be fast). An exception
// escaping a handler, a status outside 200-599 or a content type with CR/LF becomes a 500. The
// process's SIGPIPE disposition is left alone: the loop threads block SIGPIPE, so a peer that
// resets mid-response is only an I/O error.
//
// Thread safety: New, Start, Stop and the destructor are called from one owning thread, never from
// a handler (Stop joins the loop threads); port() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/metrics.h"
#include "http/router.h"

namespace keyline::http {

struct HttpServerOptions {
  // Numeric IPv4 or IPv6 address; the default listens on loopback only. "::" also accepts IPv4
  // clients unless the system sets IPV6_V6ONLY by default.
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see HttpServer::port()
  // Event-loop threads; 0: one per hardware thread.
  int threads = 0;
  // One listening socket per thread with SO_REUSEPORT (true), or one socket polled by every
  // thread (false).
  bool reuse_port = true;
  int listen_backlog = 4096;
  size_t max_request_body = 64 * 1024;
  absl::Duration idle_timeout = absl::Seconds(30);
  absl::Duration write_stall_timeout = absl::Seconds(60);
  // How long Stop lets responses in flight finish before it closes their connections.
  absl::Duration drain_timeout = absl::Seconds(2);
  Router router;
  // Optional: the server counts requests by status class and times handlers here. Must outlive
  // the server.
  MetricsRegistry* metrics = nullptr;
};

class HttpServer {
 public:
  // Validates the options and binds the listening sockets (so port() is known and a port in use
  // fails here). InvalidArgument naming the bad option; Unavailable when binding fails.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpServer>> New(HttpServerOptions options);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();  // Stop()

  // Starts the event-loop threads; returns once every loop is serving. FailedPrecondition when
  // already started (a stopped server does not start again); ResourceExhausted when a thread
  // cannot be created (the server is then stopped).
  absl::Status Start();

  // Stops accepting, closes idle connections, lets responses in flight finish for up to
  // drain_timeout, closes what is left and joins the threads. Idempotent.
  void Stop();

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const { return port_; }

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl, uint16_t port);

  std::unique_ptr<Impl> impl_;
  const uint16_t port_;
};

}  // namespace keyline::http
