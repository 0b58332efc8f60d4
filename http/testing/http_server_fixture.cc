#include "http/testing/http_server_fixture.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::http::testing {

std::shared_ptr<const std::string> Body(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

HttpHandler Fixed(std::shared_ptr<const std::string> body,
                  std::shared_ptr<const HttpHeaders> headers) {
  return [body, headers](const HttpRequest&) {
    HttpResponse response;
    response.content_type = "application/ocsp-response";
    response.body = body;
    response.headers = headers;
    return response;
  };
}

std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  std::array<char, 65536> chunk;
  size_t got;
  while ((got = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0)
    output.append(chunk.data(), got);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

Router DefaultRouter() {
  Router router;
  absl::StatusOr<std::shared_ptr<const HttpHeaders>> headers =
      HttpHeaders::Make({{"Cache-Control", "max-age=60, public, no-transform, must-revalidate"},
                         {"ETag", std::string(kEtag)},
                         {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
                         {"Expires", "Sun, 06 Nov 1994 09:49:37 GMT"}});
  EXPECT_TRUE(headers.ok()) << headers.status();
  EXPECT_TRUE(
      router.Handle(HttpMethod::kGet, "/static", Fixed(Body("static body"), *headers)).ok());
  EXPECT_TRUE(router
                  .Handle(HttpMethod::kPost, "/echo",
                          [](const HttpRequest& request) {
                            HttpResponse response = HttpResponse::Text(
                                200, absl::StrCat(AsAbsl(request.content_type), "|",
                                                  request.body.size(), "|", AsAbsl(request.body)));
                            return response;
                          })
                  .ok());
  EXPECT_TRUE(
      router
          .HandlePrefix(HttpMethod::kGet, "/ocsp/",
                        [](const HttpRequest& request) {
                          return HttpResponse::Text(
                              200, absl::StrCat(
                                       AsAbsl(request.path), "|", AsAbsl(request.path_suffix), "|",
                                       AsAbsl(request.query), "|", AsAbsl(request.peer.address()),
                                       ":", request.peer.port() != 0 ? "port" : "none"));
                        })
          .ok());
  EXPECT_TRUE(
      router
          .Handle(HttpMethod::kGet, "/throws",
                  [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); })
          .ok());
  // Headers that only this response holds: h2o must be done with them when the handler's
  // response is released (ASan would see a use after free otherwise).
  EXPECT_TRUE(
      router
          .Handle(HttpMethod::kGet, "/fresh-headers",
                  [](const HttpRequest& request) {
                    HttpResponse response = HttpResponse::Text(200, std::string(request.query));
                    response.headers = *HttpHeaders::Make({{"X-Echo", std::string(request.query)}});
                    return response;
                  })
          .ok());
  EXPECT_TRUE(router
                  .Handle(HttpMethod::kGet, "/bad-content-type",
                          [](const HttpRequest&) {
                            HttpResponse response = HttpResponse::Text(200, "x");
                            response.content_type = "text/plain\r\nSet-Cookie: evil=1";
                            return response;
                          })
                  .ok());
  EXPECT_TRUE(router
                  .Handle(HttpMethod::kGet, "/bad-status",
                          [](const HttpRequest&) { return HttpResponse::Text(101, "x"); })
                  .ok());
  return router;
}

void HttpServerFixture::StartServer(HttpServerOptions options) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::New(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  ASSERT_TRUE(server_->Start().ok());
}

void HttpServerFixture::StartDefault(int threads) {
  HttpServerOptions options;
  options.threads = threads;
  options.router = DefaultRouter();
  StartServer(std::move(options));
}

std::string HttpServerFixture::Url(std::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", server_->port(), AsAbsl(path));
}

RawHttpClient HttpServerFixture::Connect() const {
  absl::StatusOr<RawHttpClient> client = RawHttpClient::Connect(server_->port());
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

RawResponse HttpServerFixture::Get(std::string_view path) const {
  RawHttpClient client = Connect();
  EXPECT_TRUE(client.Send(absl::StrCat("GET ", AsAbsl(path), " HTTP/1.1\r\nHost: t\r\n\r\n")).ok());
  absl::StatusOr<RawResponse> response = client.ReadResponse(kTimeout);
  EXPECT_TRUE(response.ok()) << response.status();
  return response.ok() ? *response : RawResponse{};
}

}  // namespace keyline::http::testing
