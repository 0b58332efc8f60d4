#include "server/periodic_tasks.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/logging.h"

namespace keyline::server {

PeriodicTasks::PeriodicTasks(std::vector<Task> tasks)
    : tasks_(std::move(tasks)),
      due_(tasks_.size(), absl::Now()),
      last_started_(tasks_.size(), absl::InfinitePast()) {
  thread_ = std::thread([this] { Loop(); });
}

PeriodicTasks::~PeriodicTasks() { Stop(); }

void PeriodicTasks::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTasks::RunSoon(std::string_view name, absl::Duration min_gap) {
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < tasks_.size(); ++i) {
      if (tasks_[i].name != name) continue;
      const absl::Time when = std::max(absl::Now(), last_started_[i] + min_gap);
      if (when < due_[i]) due_[i] = when;
      rescheduled_ = true;
    }
  }
  wake_.notify_all();
}

void PeriodicTasks::Loop() {
  while (true) {
    for (size_t i = 0; i < tasks_.size(); ++i) {
      {
        std::lock_guard lock(mutex_);
        if (due_[i] > absl::Now()) continue;
        last_started_[i] = absl::Now();
        due_[i] = absl::InfiniteFuture();
      }
      const absl::Status status = tasks_[i].run();
      if (!status.ok()) {
        LogEvent(spdlog::level::warn, "task.failed",
                 {{"task", tasks_[i].name}, {"error", std::string(status.message())}});
      }
      std::lock_guard lock(mutex_);
      // Kept when RunSoon asked for an earlier run meanwhile.
      due_[i] = std::min(due_[i], absl::Now() + tasks_[i].interval);
    }
    std::unique_lock lock(mutex_);
    const absl::Time next = *std::min_element(due_.begin(), due_.end());
    rescheduled_ = false;
    wake_.wait_until(lock, absl::ToChronoTime(next), [this] { return stopping_ || rescheduled_; });
    if (stopping_) return;
  }
}

}  // namespace keyline::server
