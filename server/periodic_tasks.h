// Background upkeep of a running server: each task runs every `interval` on one thread, until
// Stop. A failing task logs and is tried again next time.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
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

 private:
  void Loop();

  std::vector<Task> tasks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace keyline::server
