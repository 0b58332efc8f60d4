#include "server/periodic_tasks.h"

#include "absl/time/clock.h"
#include "common/logging.h"

namespace keyline::server {

PeriodicTasks::PeriodicTasks(std::vector<Task> tasks) : tasks_(std::move(tasks)) {
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

void PeriodicTasks::Loop() {
  std::vector<absl::Time> due(tasks_.size(), absl::Now());
  while (true) {
    absl::Time next = absl::InfiniteFuture();
    for (size_t i = 0; i < tasks_.size(); ++i) {
      if (due[i] <= absl::Now()) {
        const absl::Status status = tasks_[i].run();
        if (!status.ok()) {
          LogEvent(spdlog::level::warn, "task.failed",
                   {{"task", tasks_[i].name}, {"error", std::string(status.message())}});
        }
        due[i] = absl::Now() + tasks_[i].interval;
      }
      next = std::min(next, due[i]);
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, absl::ToChronoTime(next), [this] { return stopping_; })) return;
  }
}

}  // namespace keyline::server
