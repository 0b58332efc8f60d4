// HttpServer end to end on 127.0.0.1, what a client sees: routing, methods, conditional requests,
// keep-alive, pipelining, limits and errors. curl and a raw socket client against a real server.
#include "http/http_server.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "http/testing/http_server_fixture.h"
#include "http/testing/raw_http_client.h"

namespace keyline::http {
namespace {

using testing::Body;
using testing::DefaultRouter;
using testing::Fixed;
using testing::kEtag;
using testing::kTimeout;
using testing::RawHttpClient;
using testing::RawResponse;
using testing::RunCommand;
using HttpServerTest = testing::HttpServerFixture;

TEST_F(HttpServerTest, CurlGetsHeadsAndPosts) {
  StartDefault();
  auto [code, out] = RunCommand(absl::StrCat("curl -sS -D - ", Url("/static")));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("content-type: application/ocsp-response\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 11\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Cache-Control: max-age=60, public, no-transform, must-revalidate\r\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("ETag: \"v1-abc\"\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), std::string::npos);
  EXPECT_NE(out.find("Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n"), std::string::npos);
  EXPECT_NE(out.find("Server: keyline\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nstatic body")) << out;

  std::tie(code, out) = RunCommand(absl::StrCat("curl -sS -I ", Url("/static")));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 11\r\n"), std::string::npos) << out;

  std::tie(code, out) =
      RunCommand(absl::StrCat("curl -sS -H 'Content-Type: application/ocsp-request' ",
                              "--data-binary 'hello world' ", Url("/echo")));
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "application/ocsp-request|11|hello world");
}

TEST_F(HttpServerTest, HeadSendsTheLengthButNoBody) {
  StartDefault();
  RawHttpClient client = Connect();
  ASSERT_TRUE(client.Send("HEAD /static HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  absl::StatusOr<RawResponse> head = client.ReadResponse(kTimeout, /*head_request=*/true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-length"), "11");
  EXPECT_EQ(head->Header("etag"), kEtag);
  // Were any body bytes sent, they would be read as the next response's head.
  ASSERT_TRUE(client.Send("GET /static HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  absl::StatusOr<RawResponse> get = client.ReadResponse(kTimeout);
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "static body");
}

TEST_F(HttpServerTest, PerResponseHeadersAndBodiesOutliveTheHandler) {
  StartDefault();
  RawHttpClient client = Connect();
  for (int i = 0; i < 20; ++i) {
    const std::string value = absl::StrCat("value-", i, std::string(i * 200, 'x'));
    ASSERT_TRUE(
        client.Send(absl::StrCat("GET /fresh-headers?", value, " HTTP/1.1\r\nHost: t\r\n\r\n"))
            .ok());
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->Header("x-echo"), value);
    EXPECT_EQ(response->body, value);
  }
}

TEST_F(HttpServerTest, PrefixRoutesSeeRawPathSuffixQueryAndPeer) {
  StartDefault();
  const RawResponse response = Get("/ocsp/MEIw%2BQ%3D%3D?x=1&y=2");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "/ocsp/MEIw%2BQ%3D%3D|MEIw%2BQ%3D%3D|x=1&y=2|127.0.0.1:port");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  StartDefault();
  EXPECT_EQ(Get("/nothing-here").status, 404);
  EXPECT_EQ(Get("/static/").status, 404);

  RawHttpClient client = Connect();
  ASSERT_TRUE(client.Send("POST /static HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx").ok());
  absl::StatusOr<RawResponse> post = client.ReadResponse(kTimeout);
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->Header("allow"), "GET, HEAD");

  for (std::string_view method : {"PUT", "DELETE", "OPTIONS", "PATCH"}) {
    ASSERT_TRUE(
        client.Send(absl::StrCat(AsAbsl(method), " /echo HTTP/1.1\r\nHost: t\r\n\r\n")).ok());
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << method << ": " << response.status();
    EXPECT_EQ(response->status, 405) << method;
    EXPECT_EQ(response->Header("allow"), "POST") << method;
  }
  ASSERT_TRUE(client.Send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  absl::StatusOr<RawResponse> get = client.ReadResponse(kTimeout);
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->status, 405);
  ASSERT_TRUE(client.Send("DELETE /nothing HTTP/1.1\r\nHost: t\r\n\r\n").ok());
  absl::StatusOr<RawResponse> missing = client.ReadResponse(kTimeout);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpServerTest, IfNoneMatchGets304WithCachingHeaders) {
  StartDefault();
  RawHttpClient client = Connect();
  ASSERT_TRUE(
      client.Send("GET /static HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"old\", \"v1-abc\"\r\n\r\n")
          .ok());
  absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 304);
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(response->Header("etag"), kEtag);
  EXPECT_EQ(response->Header("cache-control"), "max-age=60, public, no-transform, must-revalidate");
  EXPECT_FALSE(response->HasHeader("content-type"));
  // The connection stays usable: no stray body bytes after the 304.
  ASSERT_TRUE(
      client.Send("GET /static HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"old\"\r\n\r\n").ok());
  response = client.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "static body");
  // If-Modified-Since at Last-Modified: not modified either.
  ASSERT_TRUE(client
                  .Send("GET /static HTTP/1.1\r\nHost: t\r\n"
                        "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n")
                  .ok());
  response = client.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 304);
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartDefault();
  RawHttpClient client = Connect();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.Send("GET /static HTTP/1.1\r\nHost: t\r\n\r\n").ok());
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << i << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->Header("connection"), "keep-alive");
    EXPECT_EQ(response->body, "static body");
  }
  // Connection: close is honoured.
  ASSERT_TRUE(client.Send("GET /static HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").ok());
  absl::StatusOr<RawResponse> last = client.ReadResponse(kTimeout);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->Header("connection"), "close");
  EXPECT_TRUE(client.WaitForClose(kTimeout));
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartDefault();
  RawHttpClient client = Connect();
  ASSERT_TRUE(client
                  .Send("GET /ocsp/1 HTTP/1.1\r\nHost: t\r\n\r\n"
                        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
                        "GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /ocsp/4 HTTP/1.1\r\nHost: t\r\n\r\n")
                  .ok());
  std::vector<std::pair<int, std::string>> expected = {{200, "/ocsp/1|1||127.0.0.1:port"},
                                                       {200, "|3|abc"},
                                                       {404, "not found\n"},
                                                       {200, "/ocsp/4|4||127.0.0.1:port"}};
  for (const auto& [status, body] : expected) {
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, status);
    EXPECT_EQ(response->body, body);
  }
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413AndTheServerGoesOn) {
  StartDefault();
  const std::string at_limit(64 * 1024, 'a');
  RawHttpClient client = Connect();
  ASSERT_TRUE(client
                  .Send(absl::StrCat("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ",
                                     at_limit.size(), "\r\n\r\n", at_limit))
                  .ok());
  absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, absl::StrCat("|65536|", at_limit));

  ASSERT_TRUE(client.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65537\r\n\r\n").ok());
  response = client.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.WaitForClose(kTimeout));

  // Chunked bodies are counted as they arrive.
  RawHttpClient chunked = Connect();
  ASSERT_TRUE(chunked
                  .Send(absl::StrCat("POST /echo HTTP/1.1\r\nHost: t\r\n",
                                     "Transfer-Encoding: chunked\r\n\r\n10001\r\n",
                                     std::string(0x10001, 'b'), "\r\n0\r\n\r\n"))
                  .ok());
  response = chunked.ReadResponse(kTimeout);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 413);

  EXPECT_EQ(Get("/static").status, 200);
}

TEST_F(HttpServerTest, GarbageGets400AndTheServerGoesOn) {
  StartDefault();
  // A TLS ClientHello's first bytes: what a client configured for https sends.
  static constexpr char kTlsHello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
  for (std::string_view garbage : {std::string_view("GARBAGE\r\n\r\n"),
                                   std::string_view("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"),
                                   std::string_view(kTlsHello, sizeof(kTlsHello) - 1)}) {
    RawHttpClient client = Connect();
    ASSERT_TRUE(client.Send(garbage).ok());
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 400);
    EXPECT_TRUE(client.WaitForClose(kTimeout));
  }
  // Past h2o's limits: more than 100 header fields, a head over H2O_MAX_REQLEN (~408 KiB).
  std::string many_fields = "GET /static HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 101; ++i) absl::StrAppend(&many_fields, "X-", i, ": a\r\n");
  const std::string huge_head = absl::StrCat(
      "GET /static HTTP/1.1\r\nHost: t\r\nX-Big: ", std::string(500000, 'a'), "\r\n\r\n");
  for (const std::string& request : {absl::StrCat(many_fields, "\r\n"), huge_head}) {
    RawHttpClient client = Connect();
    ASSERT_TRUE(client.Send(request).ok());
    absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 400);
  }
  EXPECT_EQ(Get("/static").status, 200);
}

TEST_F(HttpServerTest, HandlerExceptionsAndBadResponsesBecome500) {
  StartDefault();
  EXPECT_EQ(Get("/throws").status, 500);
  const RawResponse injected = Get("/bad-content-type");
  EXPECT_EQ(injected.status, 500);
  EXPECT_FALSE(injected.HasHeader("set-cookie"));
  EXPECT_EQ(Get("/bad-status").status, 500);
  EXPECT_EQ(Get("/static").status, 200);
}

TEST_F(HttpServerTest, LargeBodyArrivesIntact) {
  std::string big(50 * 1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto body = Body(std::move(big));
  HttpServerOptions options;
  options.threads = 2;
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/crl", Fixed(body)).ok());
  StartServer(std::move(options));
  const std::string path = absl::StrCat(::testing::TempDir(), "/http_big_body");
  auto [code, out] =
      RunCommand(absl::StrCat("curl -sS -o ", path, " -w '%{http_code}' ", Url("/crl")));
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "200");
  std::ifstream file(path, std::ios::binary);
  const std::string received((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(received.size(), body->size());
  EXPECT_TRUE(received == *body);
  std::remove(path.c_str());
}

TEST_F(HttpServerTest, MetricsCountRequests) {
  MetricsRegistry registry;
  HttpServerOptions options;
  options.threads = 1;
  options.router = DefaultRouter();
  options.metrics = &registry;
  ASSERT_TRUE(options.router.Handle(HttpMethod::kGet, "/metrics", MetricsHandler(&registry)).ok());
  StartServer(std::move(options));
  EXPECT_EQ(Get("/static").status, 200);
  EXPECT_EQ(Get("/static").status, 200);
  EXPECT_EQ(Get("/missing").status, 404);
  const RawResponse metrics = Get("/metrics");
  EXPECT_EQ(metrics.Header("content-type"), std::string(kPrometheusContentType));
  EXPECT_NE(metrics.body.find("keyline_http_requests_total{code=\"2xx\"} 2\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("keyline_http_requests_total{code=\"4xx\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("keyline_http_handler_duration_seconds_count 2\n"),
            std::string::npos);
}

}  // namespace
}  // namespace keyline::http
