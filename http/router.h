// Maps request paths to handlers, per method.
//
// Exact routes ("/healthz") win over prefix routes ("/ocsp/"); among prefixes the longest match
// wins. Paths are compared raw (percent-encoded, case-sensitive), byte for byte. A HEAD request
// uses the HEAD handler, or else the GET handler (the server drops the body). A path that matches
// a route without a handler for the method gets 405 with Allow; no match at all gets 404.
//
// Build the router before the server starts; afterwards it is only read, from every event-loop
// thread at once, without locks.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "http/http_message.h"

namespace keyline::http {

class Router {
 public:
  struct Route {
    std::array<HttpHandler, 3> handlers;  // indexed by HttpMethod
    std::string allow;                    // the Allow header for 405: "GET, HEAD, POST"

    // The handler for `method` (HEAD falls back to GET), or nullptr.
    const HttpHandler* For(HttpMethod method) const;
  };

  // Routes `method` on exactly `path`. InvalidArgument when the path does not start with '/',
  // the handler is empty, or the method already has a handler on that path.
  absl::Status Handle(HttpMethod method, std::string path, HttpHandler handler);

  // Routes `method` on every path that starts with `prefix`. Same errors as Handle.
  absl::Status HandlePrefix(HttpMethod method, std::string prefix, HttpHandler handler);

  // The route for `path`, or nullptr. For a prefix route, `*suffix` is what follows the prefix;
  // for an exact route it is empty. Does not allocate.
  const Route* Find(std::string_view path, std::string_view* suffix) const;

  bool empty() const { return exact_.empty() && prefixes_.empty(); }

 private:
  static absl::Status AddTo(Route& route, HttpMethod method, std::string_view path,
                            HttpHandler handler);

  absl::flat_hash_map<std::string, Route> exact_;
  std::vector<std::pair<std::string, Route>> prefixes_;  // longest first
};

}  // namespace keyline::http
