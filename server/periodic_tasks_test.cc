#include "server/periodic_tasks.h"

#include <gtest/gtest.h>

#include <atomic>

#include "absl/time/clock.h"

namespace keyline::server {
namespace {

// Until `count` reaches `at_least`, or 10 s pass.
bool WaitFor(const std::atomic<int>& count, int at_least) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (count.load() < at_least && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  return count.load() >= at_least;
}

TEST(PeriodicTasksTest, RunSoonBringsATaskForwardButNotBeforeItsGap) {
  std::atomic<int> runs{0};
  std::atomic<int> others{0};
  PeriodicTasks tasks({{"sync", absl::Hours(1), [&] { return ++runs, absl::OkStatus(); }},
                       {"other", absl::Hours(1), [&] { return ++others, absl::OkStatus(); }}});
  ASSERT_TRUE(WaitFor(runs, 1));  // every task runs once at the start
  ASSERT_TRUE(WaitFor(others, 1));

  tasks.RunSoon("sync", absl::ZeroDuration());
  EXPECT_TRUE(WaitFor(runs, 2)) << "an hour early, on request";
  tasks.RunSoon("nothing by that name", absl::ZeroDuration());

  // Within the gap after the last run: not yet.
  tasks.RunSoon("sync", absl::Hours(1));
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(others.load(), 1);
}

TEST(PeriodicTasksTest, ARequestWhileTheTaskRunsGetsOneMoreRun) {
  std::atomic<int> runs{0};
  std::atomic<bool> release{false};
  std::atomic<bool> running{false};
  PeriodicTasks tasks({{"sync", absl::Hours(1), [&] {
                          running = true;
                          while (!release.load()) absl::SleepFor(absl::Milliseconds(1));
                          ++runs;
                          return absl::OkStatus();
                        }}});
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!running.load() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(running.load());
  // What the running task read may already be out of date: one more run follows it.
  tasks.RunSoon("sync", absl::ZeroDuration());
  release = true;
  EXPECT_TRUE(WaitFor(runs, 2));
}

}  // namespace
}  // namespace keyline::server
