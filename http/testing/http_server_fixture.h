// What the HttpServer tests share: a fixture that runs a server on 127.0.0.1, the routes most
// tests use, and small helpers.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "http/http_server.h"
#include "http/testing/raw_http_client.h"

namespace keyline::http::testing {

inline constexpr absl::Duration kTimeout = absl::Seconds(10);
// The ETag of DefaultRouter's /static.
inline constexpr std::string_view kEtag = "\"v1-abc\"";

std::shared_ptr<const std::string> Body(std::string text);

// A handler that always returns `body` (application/ocsp-response) with `headers`.
HttpHandler Fixed(std::shared_ptr<const std::string> body,
                  std::shared_ptr<const HttpHeaders> headers = nullptr);

// Runs a shell command; its exit status and standard output.
std::pair<int, std::string> RunCommand(const std::string& command);

// GET /static ("static body" with caching headers and kEtag), POST /echo (content type, length
// and body back), GET /ocsp/<suffix> (path, suffix, query and peer back), GET /fresh-headers
// (headers built per response), and handlers that misbehave: /throws, /bad-content-type,
// /bad-status.
Router DefaultRouter();

class HttpServerFixture : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options);
  // DefaultRouter() on `threads` loops.
  void StartDefault(int threads = 2);

  std::string Url(std::string_view path) const;
  RawHttpClient Connect() const;
  // One GET on a fresh connection; status 0 when it failed (and the test fails).
  RawResponse Get(std::string_view path) const;

  std::unique_ptr<HttpServer> server_;
};

}  // namespace keyline::http::testing
