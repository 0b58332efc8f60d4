// What a handler of the HTTP front door sees and returns.
//
// Handlers run on an event-loop thread and must be fast: no blocking I/O, no waiting on locks
// held for long, no signing. Serve pre-built objects (a pre-signed OCSP response, an encoded
// CRL) and let other threads rebuild them. A slow handler stalls every connection of its loop.
//
// Zero-copy: the body is a shared_ptr to an immutable string, so a 40 MB CRL is referenced, not
// copied, per request; the server keeps the shared_ptr (and `headers`) alive until the bytes are
// on the wire or the connection is gone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keyline::http {

enum class HttpMethod { kGet, kHead, kPost };

// "GET", "HEAD", "POST".
std::string_view HttpMethodName(HttpMethod method);

// One request. Every view points into the server's buffers and is valid only during the handler
// call: copy what must outlive it.
struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  // The request target's path, raw: still percent-encoded, not normalized ("/ocsp/MEow%2B...").
  std::string_view path;
  // For a prefix route, what follows the prefix in `path`; empty for an exact route.
  std::string_view path_suffix;
  // After '?', without it; empty when there is none.
  std::string_view query;
  // The request body (POST); empty for GET and HEAD. At most max_request_body bytes.
  std::string_view body;
  // Selected request headers; empty when absent.
  std::string_view content_type;
  std::string_view if_none_match;
  std::string_view if_modified_since;
  // The peer's address ("127.0.0.1", "::1") and port.
  std::string_view peer_address;
  uint16_t peer_port = 0;
};

struct HttpHeader {
  std::string name;   // a token ("Cache-Control"); Content-Length, Connection, Date, Server and
                      // Transfer-Encoding are the server's and are rejected
  std::string value;  // no CR or LF
};
using HttpHeaders = std::vector<HttpHeader>;

struct HttpResponse {
  int status = 200;
  // Content-Type. Read after the handler returns, so it must not point into the handler's locals:
  // use a string literal or text owned by an object that outlives the response. Empty: none.
  std::string_view content_type;
  // The body; null is an empty body. For HEAD and 304 only its length is used.
  std::shared_ptr<const std::string> body;
  // Extra headers (Cache-Control, ETag, Last-Modified, Expires, ...), usually built once together
  // with the body. An ETag here enables 304 answers to a matching If-None-Match, a Last-Modified
  // to a matching If-Modified-Since (GET and HEAD, status 200 only).
  std::shared_ptr<const HttpHeaders> headers;

  // A text/plain response (allocates: for errors, health checks and other cold paths).
  static HttpResponse Text(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace keyline::http
