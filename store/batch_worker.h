// One thread that takes what many request threads queue and answers it in batches: whatever
// queued while the previous batch ran, up to max_batch. A busy server thereby pays one database
// round trip for many requests, an idle one none more than before. Optionally a batch smaller
// than a target waits a bounded time to fill (`fill_wait`, `fill_target`): at moderate load,
// when each batch finishes before many more requests queue, that trades a little latency for
// fewer, fuller round trips. The issuance writer (group commit) and the challenge batcher
// (BeginEnrollment's group look-up) are built on it.
//
// Thread safety: Submit may be called from any thread; `answer` and the callbacks run on the
// worker's thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace keyline::store {

// `Result` is absl::Status or absl::StatusOr<T> (built from a refusal's status).
template <typename Request, typename Result>
class BatchWorker {
 public:
  using Done = std::function<void(Result)>;
  // Answers a batch: one Result per request, in order.
  using Answer = std::function<std::vector<Result>(std::span<const Request* const>)>;

  // `what` names the work in errors ("issuance writer queue is full ..."); `callback_threw` is the
  // event logged when a callback throws.
  // With a `fill_wait` above zero, a batch of fewer than `fill_target` requests waits up to
  // `fill_wait` for more, counted from when the worker takes up its first request.
  BatchWorker(std::string what, std::string callback_threw, size_t max_batch, size_t max_queue,
              Answer answer, std::chrono::microseconds fill_wait = std::chrono::microseconds(0),
              size_t fill_target = 1)
      : what_(std::move(what)),
        callback_threw_(std::move(callback_threw)),
        max_batch_(max_batch),
        max_queue_(max_queue),
        answer_(std::move(answer)),
        fill_wait_(fill_wait),
        fill_target_(std::clamp<size_t>(fill_target, 1, max_batch)),
        thread_([this] { Run(); }) {}

  // Stops accepting requests, answers what is queued, joins the thread.
  ~BatchWorker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    queued_.notify_one();
    thread_.join();
  }

  BatchWorker(const BatchWorker&) = delete;
  BatchWorker& operator=(const BatchWorker&) = delete;

  // Queues `request`; `done` gets its Result on the worker's thread. ResourceExhausted when
  // max_queue requests are waiting, and Unavailable once the worker is stopping, reach `done`
  // before Submit returns.
  void Submit(Request request, Done done) {
    absl::Status refused;
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        refused = absl::UnavailableError(absl::StrCat(what_, " is shutting down"));
      } else if (queue_.size() >= max_queue_) {
        refused = absl::ResourceExhaustedError(
            absl::StrCat(what_, " queue is full (", max_queue_, " waiting for the database)"));
      } else {
        queue_.push_back({std::move(request), std::move(done)});
        // The worker waits only for a first request or for the fill target (Run); other wake-ups
        // would cost it a context switch each for nothing.
        wake = queue_.size() == 1 || queue_.size() == fill_target_;
      }
    }
    if (!refused.ok()) return done(Result(std::move(refused)));
    if (wake) queued_.notify_one();
  }

 private:
  struct Pending {
    Request request;
    Done done;
  };

  void Run() {
    std::vector<Pending> batch;
    std::vector<const Request*> requests;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued has been answered
        if (fill_wait_.count() > 0 && queue_.size() < fill_target_) {
          queued_.wait_for(lock, fill_wait_,
                           [this] { return stopping_ || queue_.size() >= fill_target_; });
        }
        const size_t count = std::min(max_batch_, queue_.size());
        batch.clear();
        for (size_t i = 0; i < count; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      requests.clear();
      for (const Pending& pending : batch) requests.push_back(&pending.request);
      std::vector<Result> results = answer_(requests);
      for (size_t i = 0; i < batch.size(); ++i) {
        try {
          batch[i].done(std::move(results[i]));
        } catch (...) {
          // A throwing callback must not take the worker (and every later caller) down with it.
          LogEvent(spdlog::level::err, callback_threw_);
        }
      }
    }
  }

  const std::string what_;
  const std::string callback_threw_;
  const size_t max_batch_;
  const size_t max_queue_;
  const Answer answer_;
  const std::chrono::microseconds fill_wait_;
  const size_t fill_target_;

  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Pending> queue_;  // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  std::thread thread_;         // last: starts once everything above is constructed
};

}  // namespace keyline::store
