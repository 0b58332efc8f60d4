// State shared by the event loops of one HttpServer, and the h2o request entry point
// (internal to http/; compiled with -DH2O_USE_LIBUV=0, h2o's own event loop).
#pragma once

#include <h2o.h>

#include <array>
#include <cstdint>

#include "http/metrics.h"
#include "http/router.h"

namespace keyline::http::internal {

struct ServerMetrics {
  std::array<Counter*, 6> requests_by_class{};  // [status / 100]; [0] unused
  Histogram* handler_seconds = nullptr;
};

// Built before the loops start and only read while they run.
struct ServerCore {
  Router router;
  h2o_globalconf_t globalconf;
  ServerMetrics metrics;
  bool has_metrics = false;
  uint64_t write_stall_timeout_ms = 0;
  uint64_t drain_timeout_ms = 0;
};

// The single h2o handler (registered on "/"): routes every request with core->router.
struct RouterHandler {
  h2o_handler_t super;  // first member: h2o hands out &super
  const ServerCore* core;
};

// One event loop's h2o context and what the request path needs of that loop. `h2o` comes first
// so that the context pointer h2o gives a request (req->conn->ctx) is also the LoopContext.
struct LoopContext {
  h2o_context_t h2o;
  h2o_timeout_t write_stall_timeout;
};

// RouterHandler's on_req: answers every request (404, 405, 304, HEAD, handler responses).
int HandleRequest(h2o_handler_t* self, h2o_req_t* req);

// Bodies up to this size are copied into h2o's per-request pool (a bump allocation, cheaper than
// the malloc that keeping the shared_ptr alive costs); larger ones are written in place.
inline constexpr size_t kPoolCopyLimit = 2048;

}  // namespace keyline::http::internal
