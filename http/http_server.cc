#include "http/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <latch>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "http/event_loop.h"
#include "http/listen_socket.h"
#include "http/server_core.h"

namespace keyline::http {
namespace {

constexpr int kMaxThreads = 256;

absl::Status ValidateOptions(const HttpServerOptions& options) {
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return absl::InvalidArgumentError(absl::StrCat("threads: must be 0 to ", kMaxThreads));
  }
  if (options.listen_backlog <= 0) {
    return absl::InvalidArgumentError("listen_backlog: must be positive");
  }
  if (options.max_request_body == 0) {
    return absl::InvalidArgumentError("max_request_body: must be positive");
  }
  if (options.idle_timeout < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError("idle_timeout: must be at least 1 ms");
  }
  if (options.write_stall_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("write_stall_timeout: must not be negative");
  }
  if (options.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("drain_timeout: must not be negative");
  }
  return absl::OkStatus();
}

uint64_t Milliseconds(absl::Duration duration) {
  return static_cast<uint64_t>(absl::ToInt64Milliseconds(duration));
}

absl::Status RegisterMetrics(MetricsRegistry& registry, internal::ServerMetrics& metrics) {
  for (int status_class = 1; status_class <= 5; ++status_class) {
    KEYLINE_ASSIGN_OR_RETURN(
        metrics.requests_by_class[status_class],
        registry.AddCounter("keyline_http_requests_total",
                            "HTTP requests answered by the router, by status class",
                            {{"code", absl::StrCat(status_class, "xx")}}));
  }
  KEYLINE_ASSIGN_OR_RETURN(
      metrics.handler_seconds,
      registry.AddHistogram("keyline_http_handler_duration_seconds", "Time spent in HTTP handlers",
                            MetricsRegistry::LatencyBuckets()));
  return absl::OkStatus();
}

// One h2o host with one path ("/") whose only handler is the router.
void ConfigureH2o(internal::ServerCore& core, const HttpServerOptions& options) {
  h2o_globalconf_t& config = core.globalconf;
  h2o_config_init(&config);
  // NUL-terminated: h2o prints it with %s.
  config.server_name = h2o_iovec_init(H2O_STRLIT("keyline"));
  config.max_request_entity_size = options.max_request_body;
  config.http1.req_timeout = Milliseconds(options.idle_timeout);
  config.http1.upgrade_to_http2 = 0;
  h2o_hostconf_t* host =
      h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t* path = h2o_config_register_path(host, "/", 0);
  auto* handler = reinterpret_cast<internal::RouterHandler*>(
      h2o_create_handler(path, sizeof(internal::RouterHandler)));
  handler->super.on_req = internal::HandleRequest;
  handler->core = &core;
}

}  // namespace

struct HttpServer::Impl {
  enum class State { kNew, kRunning, kStopped };

  ~Impl() {
    loops.clear();
    h2o_config_dispose(&core->globalconf);
  }

  std::unique_ptr<internal::ServerCore> core;
  std::vector<std::unique_ptr<internal::EventLoop>> loops;
  std::vector<std::thread> threads;
  State state = State::kNew;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl, uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::New(HttpServerOptions options) {
  KEYLINE_RETURN_IF_ERROR(ValidateOptions(options));
  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  KEYLINE_ASSIGN_OR_RETURN(internal::SocketAddress address,
                           internal::ParseBindAddress(options.bind_address, options.port));

  // The first socket settles the port (an ephemeral one for port 0); with SO_REUSEPORT the other
  // loops bind their own sockets to it, otherwise they share the first one.
  std::vector<internal::UniqueFd> listen_fds;
  KEYLINE_ASSIGN_OR_RETURN(internal::UniqueFd first,
                           internal::Listen(address, options.reuse_port, options.listen_backlog));
  KEYLINE_ASSIGN_OR_RETURN(const uint16_t port, internal::BoundPort(first.get()));
  listen_fds.push_back(std::move(first));
  if (address.storage.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
  }
  for (int i = 1; i < threads; ++i) {
    if (options.reuse_port) {
      KEYLINE_ASSIGN_OR_RETURN(internal::UniqueFd fd,
                               internal::Listen(address, true, options.listen_backlog));
      listen_fds.push_back(std::move(fd));
    } else {
      // Each loop closes its own descriptor, so each gets a duplicate of the shared socket.
      internal::UniqueFd fd(::fcntl(listen_fds.front().get(), F_DUPFD_CLOEXEC, 0));
      if (fd.get() < 0) return absl::UnavailableError("dup of the listening socket failed");
      listen_fds.push_back(std::move(fd));
    }
  }

  auto core = std::make_unique<internal::ServerCore>();
  core->router = std::move(options.router);
  core->write_stall_timeout_ms = Milliseconds(options.write_stall_timeout);
  core->drain_timeout_ms = Milliseconds(options.drain_timeout);
  if (options.metrics != nullptr) {
    KEYLINE_RETURN_IF_ERROR(RegisterMetrics(*options.metrics, core->metrics));
    core->has_metrics = true;
  }
  ConfigureH2o(*core, options);

  auto impl = std::make_unique<Impl>();
  for (internal::UniqueFd& fd : listen_fds) {
    impl->loops.push_back(std::make_unique<internal::EventLoop>(core.get(), std::move(fd)));
  }
  impl->core = std::move(core);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl), port));
}

absl::Status HttpServer::Start() {
  if (impl_->state != Impl::State::kNew) {
    return absl::FailedPreconditionError("http server: already started");
  }
  const size_t count = impl_->loops.size();
  std::latch ready(static_cast<std::ptrdiff_t>(count));
  size_t started = 0;
  try {
    for (; started < count; ++started) {
      impl_->threads.emplace_back([&ready, loop = impl_->loops[started].get()] {
        pthread_setname_np(pthread_self(), "keyline-http");
        loop->Run(ready);
      });
    }
  } catch (const std::system_error& error) {
    // Stand in for the loops that never started, then stop the ones that did.
    ready.count_down(static_cast<std::ptrdiff_t>(count - started));
    ready.wait();
    for (size_t i = 0; i < started; ++i) impl_->loops[i]->RequestStop();
    for (std::thread& thread : impl_->threads) thread.join();
    impl_->threads.clear();
    impl_->state = Impl::State::kStopped;
    return absl::ResourceExhaustedError(
        absl::StrCat("http server: cannot start event-loop thread: ", error.what()));
  }
  ready.wait();
  impl_->state = Impl::State::kRunning;
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (impl_->state == Impl::State::kRunning) {
    for (auto& loop : impl_->loops) loop->RequestStop();
    for (std::thread& thread : impl_->threads) thread.join();
    impl_->threads.clear();
  }
  impl_->state = Impl::State::kStopped;
}

}  // namespace keyline::http
