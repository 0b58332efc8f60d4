// http_static_server: the HTTP front door with one route that returns a pre-built body, as the
// OCSP pre-signed path does. bench/http_static_check.sh runs wrk against it.
//
//   http_static_server --port 8080 --threads 2 --body-size 450
//
// Prints "listening on <port>" once serving; stops on SIGINT or SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "http/http_server.h"

int main(int argc, char** argv) {
  CLI::App app{"Serves one pre-built body over the Keyline HTTP front door"};
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  int threads = 0;
  size_t body_size = 450;
  bool shared_listener = false;
  app.add_option("--address", address, "Numeric bind address");
  app.add_option("--port", port, "Port (0: ephemeral)");
  app.add_option("--threads", threads, "Event-loop threads (0: one per core)");
  app.add_option("--body-size", body_size, "Size of the pre-built body in bytes");
  app.add_flag("--shared-listener", shared_listener,
               "One listening socket for all threads instead of SO_REUSEPORT");
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals before the loop threads start, so that they inherit the mask and only
  // sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // An OCSP-like response: opaque bytes and the caching headers of RFC 5019.
  auto body = std::make_shared<const std::string>(std::string(body_size, 'k'));
  absl::StatusOr<std::shared_ptr<const keyline::http::HttpHeaders>> made =
      keyline::http::HttpHeaders::Make({
          {"Cache-Control", "max-age=3600, public, no-transform, must-revalidate"},
          {"ETag", "\"2f5a0c1d9e8b7a6f\""},
          {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
          {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"},
      });
  if (!made.ok()) {
    std::fprintf(stderr, "%s\n", made.status().ToString().c_str());
    return 1;
  }
  auto handler = [body, headers = *made](const keyline::http::HttpRequest&) {
    keyline::http::HttpResponse response;
    response.content_type = "application/ocsp-response";
    response.body = body;
    response.headers = headers;
    return response;
  };

  keyline::http::HttpServerOptions options;
  options.bind_address = address;
  options.port = port;
  options.threads = threads;
  options.reuse_port = !shared_listener;
  for (auto method : {keyline::http::HttpMethod::kGet, keyline::http::HttpMethod::kPost}) {
    if (absl::Status status = options.router.HandlePrefix(method, "/", handler); !status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      return 1;
    }
  }
  absl::StatusOr<std::unique_ptr<keyline::http::HttpServer>> server =
      keyline::http::HttpServer::New(std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  if (absl::Status status = (*server)->Start(); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("listening on %u\n", (*server)->port());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->Stop();
  return 0;
}
