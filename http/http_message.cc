#include "http/http_message.h"

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

HttpResponse HttpResponse::Text(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::make_shared<const std::string>(std::move(body));
  return response;
}

}  // namespace keyline::http
