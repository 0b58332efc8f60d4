// A fixed pool of threads for RPC work that blocks (database round trips, batches of HSM
// signatures). gRPC's callback handlers run on its own polling threads, which must not wait on
// PostgreSQL; handlers hand such work to this pool and finish their reactor from it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace keyline::provisioning {

class BlockingExecutor {
 public:
  explicit BlockingExecutor(size_t threads);
  // Runs what is queued, then joins.
  ~BlockingExecutor();

  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  void Run(std::function<void()> task);

 private:
  void Work();

  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace keyline::provisioning
