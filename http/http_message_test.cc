#include "http/http_message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"

namespace keyline::http {
namespace {

// Peer lookups that pretend to be connections from fixed addresses.
bool FromIpv4(const void*, sockaddr_storage* address) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(address);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(40123);
  inet_pton(AF_INET, "192.0.2.254", &v4->sin_addr);
  return true;
}

bool FromIpv6(const void*, sockaddr_storage* address) {
  auto* v6 = reinterpret_cast<sockaddr_in6*>(address);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(443);
  inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
  return true;
}

int lookups = 0;
bool Counting(const void* connection, sockaddr_storage* address) {
  ++lookups;
  return FromIpv4(connection, address);
}

bool Unknown(const void*, sockaddr_storage*) { return false; }

TEST(PeerTest, FormatsAddressesAndLooksUpOnce) {
  EXPECT_EQ(Peer(FromIpv4, nullptr).address(), "192.0.2.254");
  EXPECT_EQ(Peer(FromIpv4, nullptr).port(), 40123);
  EXPECT_EQ(Peer(FromIpv6, nullptr).address(), "2001:db8::1");
  EXPECT_EQ(Peer(FromIpv6, nullptr).port(), 443);
  EXPECT_EQ(Peer(Unknown, nullptr).address(), "");
  EXPECT_EQ(Peer(Unknown, nullptr).port(), 0);
  EXPECT_EQ(Peer().address(), "");

  lookups = 0;
  const Peer peer(Counting, nullptr);
  EXPECT_EQ(lookups, 0);  // nothing until asked
  EXPECT_EQ(peer.address(), "192.0.2.254");
  EXPECT_EQ(peer.port(), 40123);
  EXPECT_EQ(lookups, 1);
}

TEST(PeerTest, FormatsEveryIpv4OctetWidth) {
  for (const char* text : {"0.0.0.0", "9.10.99.100", "255.255.255.255", "10.200.3.45"}) {
    static std::string current;
    current = text;
    auto lookup = [](const void*, sockaddr_storage* address) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(address);
      v4->sin_family = AF_INET;
      inet_pton(AF_INET, current.c_str(), &v4->sin_addr);
      return true;
    };
    EXPECT_EQ(Peer(lookup, nullptr).address(), text);
  }
}

TEST(HttpHeadersTest, MakeChecksEveryField) {
  absl::StatusOr<std::shared_ptr<const HttpHeaders>> good =
      HttpHeaders::Make({{"Cache-Control", "max-age=60"},
                         {"etag", "\"x\""},
                         {"Last-Modified", "Thu, 01 Jan 1970 00:01:00 GMT"}});
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ((*good)->fields().size(), 3u);
  EXPECT_EQ((*good)->etag(), "\"x\"");
  EXPECT_EQ((*good)->last_modified(), 60);
  absl::StatusOr<std::shared_ptr<const HttpHeaders>> odd_date =
      HttpHeaders::Make({{"Last-Modified", "yesterday"}});
  ASSERT_TRUE(odd_date.ok());
  EXPECT_FALSE((*odd_date)->last_modified().has_value());

  const std::vector<std::pair<HttpHeader, std::string>> bad = {
      {{"X-Injected", "a\r\nSet-Cookie: evil=1"}, "headers[0].value"},
      {{"X-Nul", std::string("a\0b", 3)}, "headers[0].value"},
      {{"Bad Name", "x"}, "headers[0].name"},
      {{"", "x"}, "headers[0].name"},
      {{"Bad:Name", "x"}, "headers[0].name"},
      {{"content-length", "1000"}, "headers[0].name"},
      {{"Content-Type", "text/html"}, "headers[0].name"},
      {{"Transfer-Encoding", "chunked"}, "headers[0].name"},
      {{"Connection", "close"}, "headers[0].name"},
      {{"Date", "x"}, "headers[0].name"},
      {{"Server", "x"}, "headers[0].name"},
  };
  for (const auto& [field, where] : bad) {
    absl::StatusOr<std::shared_ptr<const HttpHeaders>> made = HttpHeaders::Make({field});
    EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument) << field.name;
    EXPECT_TRUE(absl::StartsWith(made.status().message(), where)) << made.status();
  }
  absl::StatusOr<std::shared_ptr<const HttpHeaders>> second =
      HttpHeaders::Make({{"ETag", "\"a\""}, {"Server", "x"}});
  EXPECT_TRUE(absl::StartsWith(second.status().message(), "headers[1].name")) << second.status();
}

}  // namespace
}  // namespace keyline::http
