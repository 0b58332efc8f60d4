#include "http/http_message.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "http/conditional_request.h"

namespace keyline::http {
namespace {

// RFC 9110 section 5.6.2 tchar.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (c == '\0' || std::strchr("!#$%&'*+-.^_`|~", c) == nullptr)) return false;
  }
  return true;
}

}  // namespace

std::string_view HttpMethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
  }
  return "GET";
}

absl::StatusOr<std::shared_ptr<const HttpHeaders>> HttpHeaders::Make(
    std::vector<HttpHeader> fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    const HttpHeader& field = fields[i];
    const std::string where = absl::StrCat("headers[", i, "]");
    if (!IsToken(field.name)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".name: not a token"));
    }
    for (const char* reserved :
         {"Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "Date", "Server"}) {
      if (absl::EqualsIgnoreCase(field.name, reserved)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".name: ", field.name, " is set by the server"));
      }
    }
    if (field.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".value: contains CR, LF or NUL"));
    }
  }
  return std::shared_ptr<const HttpHeaders>(new HttpHeaders(std::move(fields)));
}

HttpHeaders::HttpHeaders(std::vector<HttpHeader> fields) : fields_(std::move(fields)) {
  for (const HttpHeader& field : fields_) {
    if (etag_.empty() && absl::EqualsIgnoreCase(field.name, "ETag")) etag_ = field.value;
    if (!last_modified_.has_value() && absl::EqualsIgnoreCase(field.name, "Last-Modified")) {
      last_modified_ = ParseImfFixdate(field.value);
    }
  }
}

void Peer::Resolve() const {
  resolved_ = true;
  sockaddr_storage storage{};
  if (lookup_ == nullptr || !lookup_(connection_, &storage)) return;
  if (storage.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage);
    port_ = ntohs(v4->sin_port);
    const uint32_t address = ntohl(v4->sin_addr.s_addr);
    // By hand: inet_ntop and snprintf cost more than routing a small request.
    char* out = text_;
    for (int shift = 24; shift >= 0; shift -= 8) {
      const unsigned octet = (address >> shift) & 255;
      if (octet >= 100) *out++ = static_cast<char>('0' + octet / 100);
      if (octet >= 10) *out++ = static_cast<char>('0' + octet / 10 % 10);
      *out++ = static_cast<char>('0' + octet % 10);
      if (shift != 0) *out++ = '.';
    }
    length_ = static_cast<uint8_t>(out - text_);
  } else if (storage.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    port_ = ntohs(v6->sin6_port);
    static_assert(sizeof(text_) >= INET6_ADDRSTRLEN);
    if (inet_ntop(AF_INET6, &v6->sin6_addr, text_, sizeof(text_)) != nullptr) {
      length_ = static_cast<uint8_t>(std::strlen(text_));
    }
  }
}

std::string_view Peer::address() const {
  if (!resolved_) Resolve();
  return {text_, length_};
}

uint16_t Peer::port() const {
  if (!resolved_) Resolve();
  return port_;
}

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::make_shared<const std::string>(std::move(body));
  return response;
}

}  // namespace keyline::http
