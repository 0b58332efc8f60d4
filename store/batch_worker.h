// One thread that takes what many request threads queue and processes it in batches: whatever
// queued while the previous batch ran, up to max_batch, with no waiting to fill a batch. A busy
// server thereby pays one database round trip for many requests, an idle one none more than
// before. The issuance writer (group commit) and the challenge batcher (BeginEnrollment's group
// look-up) are built on it.
//
// Thread safety: Submit may be called from any thread; `process` runs on the worker's thread.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace keyline::store {

template <typename Item>
class BatchWorker {
 public:
  // `what` names the work in errors ("issuance queue is full ...").
  BatchWorker(std::string what, size_t max_batch, size_t max_queue,
              std::function<void(std::vector<Item>&)> process)
      : what_(std::move(what)),
        max_batch_(max_batch),
        max_queue_(max_queue),
        process_(std::move(process)),
        thread_([this] { Run(); }) {}

  // Stops accepting items, processes what is queued, joins the thread.
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

  // Queues `item`, or leaves it untouched and returns ResourceExhausted when max_queue items are
  // waiting, Unavailable once the worker is stopping.
  absl::Status Submit(Item&& item) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return absl::UnavailableError(absl::StrCat(what_, " is shutting down"));
      if (queue_.size() >= max_queue_) {
        return absl::ResourceExhaustedError(
            absl::StrCat(what_, " queue is full (", max_queue_, " waiting for the database)"));
      }
      queue_.push_back(std::move(item));
    }
    queued_.notify_one();
    return absl::OkStatus();
  }

 private:
  void Run() {
    std::vector<Item> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued has been processed
        const size_t count = std::min(max_batch_, queue_.size());
        batch.clear();
        for (size_t i = 0; i < count; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      process_(batch);
    }
  }

  const std::string what_;
  const size_t max_batch_;
  const size_t max_queue_;
  const std::function<void(std::vector<Item>&)> process_;

  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<Item> queue_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::thread thread_;      // last: starts once everything above is constructed
};

}  // namespace keyline::store
