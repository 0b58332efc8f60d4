#include "http/router.h"

#include <gtest/gtest.h>

namespace keyline::http {
namespace {

HttpHandler Returning(int status) {
  return [status](const HttpRequest&) {
    HttpResponse response;
    response.status = status;
    return response;
  };
}

int Call(const Router::Route& route, HttpMethod method) {
  const HttpHandler* handler = route.For(method);
  return handler == nullptr ? 0 : (*handler)(HttpRequest{}).status;
}

TEST(RouterTest, ExactRoutesMatchOnlyTheirPath) {
  Router router;
  ASSERT_TRUE(router.Handle(HttpMethod::kGet, "/healthz", Returning(200)).ok());
  std::string_view suffix = "unchanged";
  const Router::Route* route = router.Find("/healthz", &suffix);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(suffix, "");
  EXPECT_EQ(router.Find("/healthz/", &suffix), nullptr);
  EXPECT_EQ(router.Find("/HEALTHZ", &suffix), nullptr);
  EXPECT_EQ(router.Find("/", &suffix), nullptr);
}

TEST(RouterTest, ExactBeatsPrefixAndLongestPrefixWins) {
  Router router;
  ASSERT_TRUE(router.HandlePrefix(HttpMethod::kGet, "/", Returning(1)).ok());
  ASSERT_TRUE(router.HandlePrefix(HttpMethod::kGet, "/ocsp/long/", Returning(3)).ok());
  ASSERT_TRUE(router.HandlePrefix(HttpMethod::kGet, "/ocsp/", Returning(2)).ok());
  ASSERT_TRUE(router.Handle(HttpMethod::kGet, "/ocsp/exact", Returning(4)).ok());
  std::string_view suffix;
  const Router::Route* route = router.Find("/ocsp/MEIw%2B", &suffix);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Call(*route, HttpMethod::kGet), 2);
  EXPECT_EQ(suffix, "MEIw%2B");
  route = router.Find("/ocsp/long/x", &suffix);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Call(*route, HttpMethod::kGet), 3);
  EXPECT_EQ(suffix, "x");
  route = router.Find("/ocsp/exact", &suffix);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Call(*route, HttpMethod::kGet), 4);
  route = router.Find("/other", &suffix);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Call(*route, HttpMethod::kGet), 1);
  EXPECT_EQ(suffix, "other");
}

TEST(RouterTest, HeadFallsBackToGetAndAllowListsMethods) {
  Router router;
  ASSERT_TRUE(router.Handle(HttpMethod::kGet, "/crl", Returning(200)).ok());
  ASSERT_TRUE(router.Handle(HttpMethod::kPost, "/ocsp", Returning(201)).ok());
  ASSERT_TRUE(router.Handle(HttpMethod::kHead, "/only-head", Returning(204)).ok());
  std::string_view suffix;
  const Router::Route* crl = router.Find("/crl", &suffix);
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(Call(*crl, HttpMethod::kHead), 200);
  EXPECT_EQ(crl->For(HttpMethod::kPost), nullptr);
  EXPECT_EQ(crl->allow, "GET, HEAD");
  const Router::Route* ocsp = router.Find("/ocsp", &suffix);
  ASSERT_NE(ocsp, nullptr);
  EXPECT_EQ(ocsp->For(HttpMethod::kGet), nullptr);
  EXPECT_EQ(ocsp->For(HttpMethod::kHead), nullptr);
  EXPECT_EQ(ocsp->allow, "POST");
  ASSERT_TRUE(router.Handle(HttpMethod::kGet, "/ocsp", Returning(200)).ok());
  ocsp = router.Find("/ocsp", &suffix);
  EXPECT_EQ(ocsp->allow, "GET, HEAD, POST");
  const Router::Route* head = router.Find("/only-head", &suffix);
  EXPECT_EQ(Call(*head, HttpMethod::kHead), 204);
  EXPECT_EQ(head->allow, "HEAD");
}

TEST(RouterTest, RejectsBadRoutes) {
  Router router;
  EXPECT_EQ(router.Handle(HttpMethod::kGet, "healthz", Returning(200)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.HandlePrefix(HttpMethod::kGet, "", Returning(200)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.Handle(HttpMethod::kGet, "/x", HttpHandler()).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(router.Handle(HttpMethod::kGet, "/x", Returning(200)).ok());
  const absl::Status duplicate = router.Handle(HttpMethod::kGet, "/x", Returning(200));
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(duplicate.message().find("GET /x"), absl::string_view::npos);
  ASSERT_TRUE(router.HandlePrefix(HttpMethod::kPost, "/p/", Returning(200)).ok());
  EXPECT_EQ(router.HandlePrefix(HttpMethod::kPost, "/p/", Returning(200)).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyline::http
