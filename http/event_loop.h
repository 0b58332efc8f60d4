// One h2o event loop on its own thread (internal to http/).
//
// Run() is the thread's body: it accepts on its listening socket and serves the connections it
// accepted until RequestStop(), then drains: stops accepting, closes idle connections at once,
// lets responses in flight finish for up to drain_timeout, shuts down what is left and disposes
// of every h2o object on the thread that used them.
#pragma once

#include <atomic>
#include <latch>

#include "http/listen_socket.h"
#include "http/server_core.h"

namespace keyline::http::internal {

class EventLoop {
 public:
  // `listen_fd` is owned by the loop from now on; `core` must outlive it.
  EventLoop(const ServerCore* core, UniqueFd listen_fd);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The thread body. Counts `ready` down once it accepts connections.
  void Run(std::latch& ready);

  // From any thread, once, after `ready` was counted down: makes Run drain and return.
  void RequestStop();

 private:
  // Resumes accepting after a pause (ResumeTimer's entry comes first: h2o hands out &entry).
  struct ResumeTimer {
    h2o_timeout_entry_t entry;
    EventLoop* loop;
  };

  static void OnAccept(h2o_socket_t* listener, const char* error);
  static void OnResumeAccepting(h2o_timeout_entry_t* entry);
  // Out of file descriptors (or kernel memory): the listening socket stays readable, so stop
  // polling it for a while instead of spinning on failing accepts.
  void PauseAccepting();
  static void OnWake(h2o_multithread_receiver_t* receiver, h2o_linklist_t* messages);

  bool HasConnections();
  // For every HTTP/1 connection of this loop: shuts down its reading side (an idle connection
  // then reads EOF and h2o closes it), or aborts it (AbortConnection).
  void ForEachConnection(bool abort);
  // Runs the loop until no connection is left or `timeout_ms` passed.
  void RunUntilIdle(uint64_t timeout_ms);
  void Drain();

  const ServerCore* const core_;
  UniqueFd listen_fd_;
  h2o_evloop_t* loop_ = nullptr;
  LoopContext context_{};
  h2o_accept_ctx_t accept_ctx_{};
  h2o_socket_t* listener_ = nullptr;
  h2o_timeout_t accept_pause_{};
  ResumeTimer resume_timer_{{}, this};
  h2o_multithread_receiver_t wake_receiver_{};
  h2o_multithread_message_t wake_message_{};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace keyline::http::internal
