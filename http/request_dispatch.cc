// HandleRequest: from h2o's request to a handler and back, without copying large bodies.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "common/logging.h"
#include "http/conditional_request.h"
#include "http/server_core.h"
#include "http/tcp_progress.h"

namespace keyline::http::internal {
namespace {

std::string_view View(h2o_iovec_t text) { return {text.base, text.len}; }

std::string_view RequestHeader(const h2o_req_t* req, const h2o_token_t* token) {
  const ssize_t index = h2o_find_header(&req->headers, token, -1);
  return index < 0 ? std::string_view() : View(req->headers.entries[index].value);
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : (status < 500 ? "Client Error" : "Server Error");
  }
}

// Header fields were checked when their HttpHeaders was built; only the status and the content
// type (a view the handler may have filled from anywhere) are left to check.
bool IsValidResponse(const HttpResponse& response) {
  return response.status >= 200 && response.status <= 599 &&
         response.content_type.find_first_of(std::string_view("\r\n\0", 3)) ==
             std::string_view::npos;
}

// Watches a response being written: see OnWriteStallCheck.
struct StallGuard {
  static constexpr uint64_t kNotYetRead = UINT64_MAX;
  h2o_timeout_entry_t entry;  // first member: the timeout callback gets &entry
  h2o_loop_t* loop;
  h2o_timeout_t* timeout;
  h2o_socket_t* socket;
  uint64_t bytes_acked;  // at the last look; kNotYetRead before the first
};

// Keeps a large body (and its headers) alive until h2o disposes of the request: after the last
// byte was written, or when the connection died. Lives in the request's pool as a shared entry.
struct BodyKeeper {
  StallGuard guard;
  std::shared_ptr<const std::string> body;
  std::shared_ptr<const HttpHeaders> headers;
};

void DisposeBodyKeeper(void* data) {
  auto* keeper = static_cast<BodyKeeper*>(data);
  if (h2o_timeout_is_linked(&keeper->guard.entry)) h2o_timeout_unlink(&keeper->guard.entry);
  keeper->~BodyKeeper();
}

void DisposeStallGuard(void* data) {
  auto* guard = static_cast<StallGuard*>(data);
  if (h2o_timeout_is_linked(&guard->entry)) h2o_timeout_unlink(&guard->entry);
}

// Runs every write_stall_timeout while a response is being written (h2o disposes of the request,
// and unlinks the guard, once the last byte is in the kernel). If the peer acknowledged nothing
// since the last look, the connection is aborted: h2o's pending write then fails, and h2o closes
// the connection and disposes of the request (and of the guard) the usual way. The first look
// only notes where the peer is, so that arming costs no system call: a stall is found after one
// to two timeouts.
void OnWriteStallCheck(h2o_timeout_entry_t* entry) {
  auto* guard = reinterpret_cast<StallGuard*>(entry);
  const int fd = h2o_socket_get_fd(guard->socket);
  const std::optional<uint64_t> acked = BytesAcked(fd);
  if (acked.has_value() && *acked != guard->bytes_acked) {
    guard->bytes_acked = *acked;
    h2o_timeout_link(guard->loop, guard->timeout, &guard->entry);
    return;
  }
  AbortConnection(fd);
}

// Watches the write of `req`'s response. Every response, not only large ones: h2o runs no timer
// on a connection while a response is being written, so a client that pipelines requests and
// never reads would otherwise hold the connection (and a descriptor) forever once the socket
// buffers fill, whatever the size of each answer.
void ArmStallGuard(const ServerCore& core, LoopContext* loop, h2o_req_t* req, StallGuard* guard) {
  h2o_socket_t* socket = req->conn->callbacks->get_socket(req->conn);
  if (core.write_stall_timeout_ms == 0 || socket == nullptr) return;
  *guard =
      StallGuard{{}, loop->h2o.loop, &loop->write_stall_timeout, socket, StallGuard::kNotYetRead};
  guard->entry.cb = OnWriteStallCheck;
  h2o_timeout_link(loop->h2o.loop, &loop->write_stall_timeout, &guard->entry);
}

// ArmStallGuard with a guard of its own in the request's pool (a response whose body needs no
// BodyKeeper).
void GuardWrite(const ServerCore& core, LoopContext* loop, h2o_req_t* req) {
  if (core.write_stall_timeout_ms == 0) return;
  void* memory = h2o_mem_alloc_shared(&req->pool, sizeof(StallGuard), DisposeStallGuard);
  ArmStallGuard(core, loop, req, new (memory) StallGuard{});
}

// Peer::Lookup for an h2o connection (h2o caches the address after the first getpeername).
bool LookupPeer(const void* connection, sockaddr_storage* address) {
  auto* conn = static_cast<h2o_conn_t*>(const_cast<void*>(connection));
  return conn->callbacks->get_peername(conn, reinterpret_cast<sockaddr*>(address)) != 0;
}

// The path for a log line, cut short: it comes from the client.
std::string LoggedPath(std::string_view path) {
  constexpr size_t kMaxLoggedPath = 256;
  return std::string(path.substr(0, kMaxLoggedPath));
}

const std::shared_ptr<const std::string>& StaticBody(int status) {
  static const auto* const kNotFound =
      new std::shared_ptr<const std::string>(std::make_shared<const std::string>("not found\n"));
  static const auto* const kMethodNotAllowed = new std::shared_ptr<const std::string>(
      std::make_shared<const std::string>("method not allowed\n"));
  static const auto* const kInternalError = new std::shared_ptr<const std::string>(
      std::make_shared<const std::string>("internal server error\n"));
  switch (status) {
    case 404:
      return *kNotFound;
    case 405:
      return *kMethodNotAllowed;
    default:
      return *kInternalError;
  }
}

HttpResponse StaticResponse(int status) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = StaticBody(status);
  return response;
}

void Send(h2o_req_t* req, LoopContext* loop, const ServerCore& core, HttpResponse& response,
          bool head, std::string_view allow) {
  static h2o_generator_t generator = {nullptr, nullptr};  // one final h2o_send, nothing to pull
  const int status = response.status;
  req->res.status = status;
  req->res.reason = ReasonPhrase(status);
  // h2o flattens the header fields inside h2o_send below, so they only have to outlive it.
  if (!response.content_type.empty() && status != 304) {
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, nullptr,
                   response.content_type.data(), response.content_type.size());
  }
  if (!allow.empty()) {
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, nullptr, allow.data(),
                   allow.size());
  }
  if (response.headers != nullptr) {
    for (const HttpHeader& header : response.headers->fields()) {
      h2o_add_header_by_str(&req->pool, &req->res.headers, header.name.data(), header.name.size(),
                            0, nullptr, header.value.data(), header.value.size());
    }
  }
  const std::string* body = response.body.get();
  const size_t size = body == nullptr ? 0 : body->size();
  const bool bodyless_status = status == 204 || status == 304;
  req->res.content_length = bodyless_status ? SIZE_MAX : size;
  h2o_start_response(req, &generator);
  if (head || bodyless_status || size == 0) {
    GuardWrite(core, loop, req);  // the head alone can stall too, behind earlier answers
    h2o_send(req, nullptr, 0, H2O_SEND_STATE_FINAL);
    return;
  }
  h2o_iovec_t buffer;
  if (size <= kPoolCopyLimit) {
    buffer.base = static_cast<char*>(h2o_mem_alloc_pool(&req->pool, size));
    std::memcpy(buffer.base, body->data(), size);
    GuardWrite(core, loop, req);
  } else {
    void* memory = h2o_mem_alloc_shared(&req->pool, sizeof(BodyKeeper), DisposeBodyKeeper);
    auto* keeper = new (memory)
        BodyKeeper{StallGuard{}, std::move(response.body), std::move(response.headers)};
    buffer.base = const_cast<char*>(body->data());
    ArmStallGuard(core, loop, req, &keeper->guard);
  }
  buffer.len = size;
  h2o_send(req, &buffer, 1, H2O_SEND_STATE_FINAL);
}

}  // namespace

int HandleRequest(h2o_handler_t* self, h2o_req_t* req) {
  const ServerCore& core = *reinterpret_cast<RouterHandler*>(self)->core;
  auto* loop = reinterpret_cast<LoopContext*>(req->conn->ctx);

  HttpRequest request;
  const std::string_view method = View(req->method);
  bool known_method = true;
  if (method == "GET") {
    request.method = HttpMethod::kGet;
  } else if (method == "HEAD") {
    request.method = HttpMethod::kHead;
  } else if (method == "POST") {
    request.method = HttpMethod::kPost;
  } else {
    known_method = false;
  }
  const std::string_view target = View(req->path);
  if (req->query_at != SIZE_MAX && req->query_at < target.size()) {
    request.path = target.substr(0, req->query_at);
    request.query = target.substr(req->query_at + 1);
  } else {
    request.path = target;
  }

  HttpResponse response;
  std::string_view allow;
  const Router::Route* route = core.router.Find(request.path, &request.path_suffix);
  const HttpHandler* handler = nullptr;
  if (route == nullptr) {
    response = StaticResponse(404);
  } else if (handler = known_method ? route->For(request.method) : nullptr; handler == nullptr) {
    response = StaticResponse(405);
    allow = route->allow;
  } else {
    if (req->entity.base != nullptr) request.body = View(req->entity);
    request.content_type = RequestHeader(req, H2O_TOKEN_CONTENT_TYPE);
    request.if_none_match = RequestHeader(req, H2O_TOKEN_IF_NONE_MATCH);
    request.if_modified_since = RequestHeader(req, H2O_TOKEN_IF_MODIFIED_SINCE);
    request.peer = Peer(LookupPeer, req->conn);

    const auto started = core.has_metrics ? std::chrono::steady_clock::now()
                                          : std::chrono::steady_clock::time_point();
    try {
      response = (*handler)(request);
    } catch (const std::exception& e) {
      LogEvent(spdlog::level::err, "http_handler_exception",
               {{"path", LoggedPath(request.path)}, {"what", e.what()}});
      response = StaticResponse(500);
    } catch (...) {
      LogEvent(spdlog::level::err, "http_handler_exception", {{"path", LoggedPath(request.path)}});
      response = StaticResponse(500);
    }
    if (core.has_metrics) {
      core.metrics.handler_seconds->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (!IsValidResponse(response)) {
      LogEvent(spdlog::level::err, "http_handler_bad_response",
               {{"path", LoggedPath(request.path)}, {"status", response.status}});
      response = StaticResponse(500);
    } else if (IsNotModified(request, response)) {
      response.status = 304;
    }
  }
  if (core.has_metrics) core.metrics.requests_by_class[response.status / 100]->Increment();
  Send(req, loop, core, response, known_method && request.method == HttpMethod::kHead, allow);
  return 0;
}

}  // namespace keyline::http::internal
