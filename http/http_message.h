// What a handler of the HTTP front door sees and returns.
//
// Handlers run on an event-loop thread and must be fast: no blocking I/O, no waiting on locks
// held for long, no signing. Serve pre-built objects (a pre-signed OCSP response, an encoded
// CRL) and let other threads rebuild them. A slow handler stalls every connection of its loop.
//
// Zero-copy: the body is a shared_ptr to an immutable string, so a 40 MB CRL is referenced, not
// copied, per request; the server keeps the shared_ptr (and `headers`) alive until the bytes are
// on the wire or the connection is gone. Bodies up to 2 KiB are copied into h2o's per-request
// memory pool instead, which costs less than keeping the shared_ptr alive.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::http {

enum class HttpMethod { kGet, kHead, kPost };

// "GET", "HEAD", "POST".
std::string_view HttpMethodName(HttpMethod method);

// The remote end of a request's connection, looked up on first use: a system call per connection
// that handlers which do not need it do not pay for. Not thread-safe (it caches), like the request
// it belongs to.
class Peer {
 public:
  // Fills `address` with the peer of `connection`; false when it is unknown.
  using Lookup = bool (*)(const void* connection, sockaddr_storage* address);

  Peer() = default;  // unknown
  Peer(Lookup lookup, const void* connection) : lookup_(lookup), connection_(connection) {}

  // "127.0.0.1", "::1", "::ffff:192.0.2.1"; empty when unknown.
  std::string_view address() const;
  // 0 when unknown.
  uint16_t port() const;

 private:
  void Resolve() const;

  Lookup lookup_ = nullptr;
  const void* connection_ = nullptr;
  mutable bool resolved_ = false;
  mutable uint8_t length_ = 0;
  mutable uint16_t port_ = 0;
  mutable char text_[46] = {};  // INET6_ADDRSTRLEN
};

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
  Peer peer;
};

struct HttpHeader {
  std::string name;   // an RFC 9110 token ("Cache-Control")
  std::string value;  // no CR, LF or NUL
};

// Extra response header fields (Cache-Control, ETag, Last-Modified, Expires, ...), checked once
// when built and then shared by every response that carries them, usually built together with the
// body they describe. Immutable, so safe to share between threads.
class HttpHeaders {
 public:
  // InvalidArgument naming the field when a name is not a token, names a field the server writes
  // itself (Content-Length, Content-Type: use HttpResponse::content_type, Transfer-Encoding,
  // Connection, Date, Server), or a value contains CR, LF or NUL.
  [[nodiscard]] static absl::StatusOr<std::shared_ptr<const HttpHeaders>> Make(
      std::vector<HttpHeader> fields);

  const std::vector<HttpHeader>& fields() const { return fields_; }
  // The ETag field's value, or empty.
  std::string_view etag() const { return etag_; }
  // The Last-Modified field as seconds since the Unix epoch, when it is an IMF-fixdate.
  std::optional<int64_t> last_modified() const { return last_modified_; }

 private:
  explicit HttpHeaders(std::vector<HttpHeader> fields);

  std::vector<HttpHeader> fields_;
  std::string etag_;
  std::optional<int64_t> last_modified_;
};

struct HttpResponse {
  int status = 200;
  // Content-Type. Read after the handler returns, so it must not point into the handler's locals:
  // use a string literal or text owned by an object that outlives the response. Empty: none.
  std::string_view content_type;
  // The body; null is an empty body. HEAD sends only its length (Content-Length); 304 and 204
  // send neither.
  std::shared_ptr<const std::string> body;
  // Extra header fields; null is none. An ETag here enables 304 answers to a matching
  // If-None-Match, a Last-Modified to a matching If-Modified-Since (GET and HEAD, status 200).
  std::shared_ptr<const HttpHeaders> headers;
  // False when Last-Modified is informative only and must not answer If-Modified-Since: it can
  // stay the same, or go back, while the representation changes (OCSP's backdated thisUpdate).
  bool last_modified_validates = true;

  // A text/plain response (allocates: for errors, health checks and other cold paths).
  static HttpResponse Text(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace keyline::http
