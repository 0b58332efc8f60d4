#include "provisioning/blocking_executor.h"

#include <atomic>
#include <set>

#include <gtest/gtest.h>

namespace keyline::provisioning {
namespace {

TEST(BlockingExecutorTest, RunsEveryTaskOnItsThreadsAndDrainsOnDestruction) {
  std::atomic<int> done{0};
  std::mutex mutex;
  std::set<std::thread::id> threads;
  {
    BlockingExecutor executor(3);
    for (int i = 0; i < 1000; ++i) {
      executor.Run([&] {
        {
          std::lock_guard lock(mutex);
          threads.insert(std::this_thread::get_id());
        }
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 1000);
  EXPECT_LE(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

}  // namespace
}  // namespace keyline::provisioning
