#include "http/event_loop.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

#include "common/logging.h"
#include "http/tcp_progress.h"

namespace keyline::http::internal {
namespace {

// Connections accepted per readiness event: under connection churn one trip through epoll per
// connection costs more than the accepts themselves.
constexpr int kAcceptBatch = 64;
// How long accepting pauses when the process is out of file descriptors.
constexpr uint64_t kAcceptPauseMs = 100;
// After drain_timeout, how long shut-down connections get to be closed by h2o.
constexpr uint64_t kCloseTimeoutMs = 1000;

// Blocks asynchronous signals on the calling (loop) thread: a peer that resets mid-write makes
// writev fail with EPIPE instead of killing the process with SIGPIPE, and process-directed signals
// (SIGTERM, SIGINT) go to the threads that wait for them. Fault signals stay deliverable.
void BlockSignals() {
  sigset_t signals;
  sigfillset(&signals);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&signals, fault);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

}  // namespace

EventLoop::EventLoop(const ServerCore* core, UniqueFd listen_fd)
    : core_(core), listen_fd_(std::move(listen_fd)) {}

void EventLoop::Run(std::latch& ready) {
  BlockSignals();
  loop_ = h2o_evloop_create();
  // h2o takes the configuration as mutable but only reads it while serving.
  h2o_context_init(&context_.h2o, loop_, const_cast<h2o_globalconf_t*>(&core_->globalconf));
  h2o_timeout_init(loop_, &context_.write_stall_timeout, core_->write_stall_timeout_ms);
  h2o_timeout_init(loop_, &accept_pause_, kAcceptPauseMs);
  resume_timer_.entry.cb = OnResumeAccepting;
  accept_ctx_.ctx = &context_.h2o;
  accept_ctx_.hosts = core_->globalconf.hosts;
  listener_ = h2o_evloop_socket_create(loop_, listen_fd_.release(), H2O_SOCKET_FLAG_DONT_READ);
  listener_->data = this;
  h2o_socket_read_start(listener_, OnAccept);
  h2o_multithread_register_receiver(context_.h2o.queue, &wake_receiver_, OnWake);
  ready.count_down();

  while (!stop_requested_.load(std::memory_order_acquire)) h2o_evloop_run(loop_, INT32_MAX);

  Drain();
  h2o_multithread_unregister_receiver(context_.h2o.queue, &wake_receiver_);
  h2o_timeout_dispose(loop_, &accept_pause_);
  h2o_timeout_dispose(loop_, &context_.write_stall_timeout);
  h2o_context_dispose(&context_.h2o);
  h2o_evloop_destroy(loop_);
  loop_ = nullptr;
}

void EventLoop::RequestStop() {
  stop_requested_.store(true, std::memory_order_release);
  // Any message wakes the loop out of epoll_wait; the flag above tells it why.
  h2o_multithread_send_message(&wake_receiver_, &wake_message_);
}

void EventLoop::OnWake(h2o_multithread_receiver_t*, h2o_linklist_t* messages) {
  while (!h2o_linklist_is_empty(messages)) h2o_linklist_unlink(messages->next);
}

void EventLoop::OnAccept(h2o_socket_t* listener, const char* error) {
  if (error != nullptr) return;
  auto* self = static_cast<EventLoop*>(listener->data);
  for (int i = 0; i < kAcceptBatch; ++i) {
    h2o_socket_t* socket = h2o_evloop_socket_accept(listener);
    if (socket == nullptr) {
      // h2o returns right after accept4 failed, so errno is still accept4's.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        self->PauseAccepting();
      }
      return;
    }
    h2o_accept(&self->accept_ctx_, socket);
  }
}

void EventLoop::PauseAccepting() {
  if (h2o_timeout_is_linked(&resume_timer_.entry)) return;
  h2o_socket_read_stop(listener_);
  h2o_timeout_link(loop_, &accept_pause_, &resume_timer_.entry);
}

void EventLoop::OnResumeAccepting(h2o_timeout_entry_t* entry) {
  EventLoop* self = reinterpret_cast<ResumeTimer*>(entry)->loop;
  if (self->listener_ != nullptr) h2o_socket_read_start(self->listener_, OnAccept);
}

bool EventLoop::HasConnections() { return !h2o_linklist_is_empty(&context_.h2o.http1._conns); }

void EventLoop::ForEachConnection(bool abort) {
  auto visit = [](h2o_req_t* req, void* data) -> int {
    if (h2o_socket_t* socket = req->conn->callbacks->get_socket(req->conn); socket != nullptr) {
      const int fd = h2o_socket_get_fd(socket);
      if (*static_cast<bool*>(data)) {
        AbortConnection(fd);
      } else {
        ::shutdown(fd, SHUT_RD);
      }
    }
    return 0;
  };
  if (core_->globalconf.http1.callbacks.foreach_request != nullptr) {
    core_->globalconf.http1.callbacks.foreach_request(&context_.h2o, visit, &abort);
  }
}

void EventLoop::RunUntilIdle(uint64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (HasConnections() && std::chrono::steady_clock::now() < deadline) {
    h2o_evloop_run(loop_, 10);
  }
}

void EventLoop::Drain() {
  if (h2o_timeout_is_linked(&resume_timer_.entry)) h2o_timeout_unlink(&resume_timer_.entry);
  h2o_socket_read_stop(listener_);
  h2o_socket_close(listener_);
  listener_ = nullptr;
  // Responses still to be started say "Connection: close".
  context_.h2o.shutdown_requested = 1;
  // An idle keep-alive connection reads EOF at once and h2o closes it; a connection in the middle
  // of a response finishes it first, then reads EOF.
  ForEachConnection(/*abort=*/false);
  RunUntilIdle(core_->drain_timeout_ms);
  if (HasConnections()) {
    // Writes to these fail now, which makes h2o close them.
    ForEachConnection(/*abort=*/true);
    RunUntilIdle(kCloseTimeoutMs);
  }
  if (HasConnections()) {
    LogEvent(spdlog::level::warn, "http_drain_incomplete",
             {{"detail", "connections still open after shutdown"}});
  }
  // One more pass frees the sockets closed above.
  h2o_evloop_run(loop_, 0);
}

}  // namespace keyline::http::internal
