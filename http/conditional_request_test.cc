#include "http/conditional_request.h"

#include <gtest/gtest.h>

namespace keyline::http {
namespace {

HttpResponse WithHeaders(std::vector<HttpHeader> headers, int status = 200) {
  HttpResponse response;
  response.status = status;
  absl::StatusOr<std::shared_ptr<const HttpHeaders>> made = HttpHeaders::Make(std::move(headers));
  EXPECT_TRUE(made.ok()) << made.status();
  if (made.ok()) response.headers = *made;
  return response;
}

TEST(IfNoneMatchTest, WeakComparisonOverAList) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "W/\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"y\" ,W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches(" * ", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "\"abc\""));                  // unquoted: malformed
  EXPECT_FALSE(IfNoneMatchMatches("\"abc", "\"abc\""));                // unterminated
  EXPECT_FALSE(IfNoneMatchMatches("\"x\" junk, \"abc\"", "\"abc\""));  // garbage between tags
  EXPECT_FALSE(IfNoneMatchMatches("", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc\"", "abc"));  // our tag malformed
  EXPECT_FALSE(IfNoneMatchMatches("*", ""));
}

TEST(ImfFixdateTest, ParsesOnlyImfFixdate) {
  EXPECT_EQ(ParseImfFixdate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseImfFixdate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(ParseImfFixdate("Tue, 29 Feb 2028 23:59:59 GMT"), 1835481599);
  EXPECT_FALSE(ParseImfFixdate("Sunday, 06-Nov-94 08:49:37 GMT").has_value());  // RFC 850
  EXPECT_FALSE(ParseImfFixdate("Sun Nov  6 08:49:37 1994").has_value());        // asctime
  EXPECT_FALSE(ParseImfFixdate("Sun, 06 Nov 1994 08:49:37 UTC").has_value());
  EXPECT_FALSE(ParseImfFixdate("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(ParseImfFixdate("Sun, 06 Nov 1994 24:49:37 GMT").has_value());
  EXPECT_FALSE(ParseImfFixdate("Xyz, 06 Nov 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(ParseImfFixdate("Sun, 0a Nov 1994 08:49:37 GMT").has_value());
}

TEST(IsNotModifiedTest, IfNoneMatchDecidesWhenPresent) {
  const HttpResponse response =
      WithHeaders({{"etag", "\"v1\""}, {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  HttpRequest request;
  EXPECT_FALSE(IsNotModified(request, response));
  request.if_none_match = "\"v1\"";
  EXPECT_TRUE(IsNotModified(request, response));
  request.method = HttpMethod::kHead;
  EXPECT_TRUE(IsNotModified(request, response));
  request.method = HttpMethod::kPost;
  EXPECT_FALSE(IsNotModified(request, response));
  request.method = HttpMethod::kGet;
  // A non-matching If-None-Match wins over a matching If-Modified-Since (RFC 9110 13.2.2).
  request.if_none_match = "\"v0\"";
  request.if_modified_since = "Mon, 07 Nov 1994 08:49:37 GMT";
  EXPECT_FALSE(IsNotModified(request, response));
  HttpRequest matching;
  matching.if_none_match = "\"v1\"";
  EXPECT_FALSE(IsNotModified(matching, WithHeaders({{"ETag", "\"v1\""}}, 404)));
  EXPECT_FALSE(IsNotModified(matching, HttpResponse{}));
}

TEST(IsNotModifiedTest, IfModifiedSinceComparesWithLastModified) {
  const HttpResponse response = WithHeaders({{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  HttpRequest request;
  request.if_modified_since = "Sun, 06 Nov 1994 08:49:38 GMT";
  EXPECT_TRUE(IsNotModified(request, response));
  request.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
  EXPECT_TRUE(IsNotModified(request, response));
  request.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
  EXPECT_FALSE(IsNotModified(request, response));
  // A Last-Modified that does not validate answers no If-Modified-Since, even a later one.
  HttpResponse informative = response;
  informative.last_modified_validates = false;
  request.if_modified_since = "Mon, 07 Nov 1994 08:49:37 GMT";
  EXPECT_FALSE(IsNotModified(request, informative));
  request.if_modified_since = "yesterday";
  EXPECT_FALSE(IsNotModified(request, response));
  request.if_modified_since = "Sun, 06 Nov 1994 08:49:38 GMT";
  EXPECT_FALSE(IsNotModified(request, WithHeaders({{"Cache-Control", "max-age=60"}})));
}

}  // namespace
}  // namespace keyline::http
