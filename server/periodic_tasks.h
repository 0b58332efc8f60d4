// Background upkeep of a running server: each task runs every `interval` on one thread, until
// Stop. A failing task logs and is tried again next time. RunSoon brings a task forward when a
// caller learns that what it keeps current is out of date.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace keyline::server {

class PeriodicTasks {
 public:
  struct Task {
    std::string name;
    absl::Duration interval;
    std::function<absl::Status()> run;
  };

  explicit PeriodicTasks(std::vector<Task> tasks);
  ~PeriodicTasks();  // Stop

  PeriodicTasks(const PeriodicTasks&) = delete;
  PeriodicTasks& operator=(const PeriodicTasks&) = delete;

  void Stop();

  // Runs the task named `name` as soon as the thread is free, but no sooner than `min_gap` after
  // its last run began, so that a burst of callers (or a cause the task cannot cure) does not keep
  // it running back to back. A call while the task runs schedules one more run. Unknown names
  // are ignored. Thread-safe.
  void RunSoon(std::string_view name, absl::Duration min_gap);

 private:
  void Loop();

  const std::vector<Task> tasks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  // Per task, guarded by mutex_: when it runs next (InfiniteFuture while it runs), and when its
  // last run began.
  std::vector<absl::Time> due_;
  std::vector<absl::Time> last_started_;
  bool rescheduled_ = false;  // guarded by mutex_: RunSoon moved a time since the loop looked
  std::thread thread_;
};

}  // namespace keyline::server
