#include "store/batch_worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::store {
namespace {

using Worker = BatchWorker<std::unique_ptr<int>, absl::StatusOr<int>>;

// Records each batch and answers each request with its value; the first batch blocks until
// `release` is set, so that what is submitted meanwhile queues up behind it.
struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<int>> batches;
  std::promise<void> first_started;
  std::shared_future<void> release;

  std::vector<absl::StatusOr<int>> Answer(std::span<const std::unique_ptr<int>* const> batch) {
    bool first;
    std::vector<absl::StatusOr<int>> results;
    {
      std::lock_guard lock(mutex);
      first = batches.empty();
      batches.emplace_back();
      for (const auto* item : batch) {
        batches.back().push_back(**item);
        results.push_back(**item);
      }
    }
    if (first) {
      first_started.set_value();
      release.wait();
    }
    return results;
  }
};

TEST(BatchWorkerTest, WhatQueuesDuringABatchIsTheNextBatchUpToMaxBatch) {
  std::promise<void> release;
  Recorder recorder;
  recorder.release = release.get_future().share();
  std::vector<int> answered(6, -1);
  {
    Worker worker(
        "test worker", "test_callback_threw", /*max_batch=*/3, /*max_queue=*/100,
        [&](std::span<const std::unique_ptr<int>* const> batch) { return recorder.Answer(batch); });
    const auto submit = [&](int i) {
      worker.Submit(std::make_unique<int>(i),
                    [&answered, i](absl::StatusOr<int> result) { answered[i] = *result; });
    };
    submit(0);
    recorder.first_started.get_future().wait();
    for (int i = 1; i <= 5; ++i) submit(i);
    release.set_value();
  }  // the destructor answers what is queued before it returns
  const std::vector<std::vector<int>> expected = {{0}, {1, 2, 3}, {4, 5}};
  EXPECT_EQ(recorder.batches, expected);
  EXPECT_EQ(answered, (std::vector<int>{0, 1, 2, 3, 4, 5}));  // each its own result
}

TEST(BatchWorkerTest, AFullQueueRefusesBeforeSubmitReturns) {
  std::promise<void> release;
  Recorder recorder;
  recorder.release = release.get_future().share();
  Worker worker(
      "test worker", "test_callback_threw", /*max_batch=*/10, /*max_queue=*/2,
      [&](std::span<const std::unique_ptr<int>* const> batch) { return recorder.Answer(batch); });
  const auto ignore = [](absl::StatusOr<int>) {};
  worker.Submit(std::make_unique<int>(0), ignore);
  recorder.first_started.get_future().wait();  // taken off the queue
  worker.Submit(std::make_unique<int>(1), ignore);
  worker.Submit(std::make_unique<int>(2), ignore);
  std::optional<absl::Status> refused;
  worker.Submit(std::make_unique<int>(3),
                [&refused](absl::StatusOr<int> result) { refused = result.status(); });
  ASSERT_TRUE(refused.has_value());  // on this thread, before Submit returned
  EXPECT_EQ(refused->code(), absl::StatusCode::kResourceExhausted) << *refused;
  EXPECT_EQ(refused->message(), "test worker queue is full (2 waiting for the database)");
  release.set_value();
}

TEST(BatchWorkerTest, AThrowingCallbackDoesNotStopTheOthersOrTheWorker) {
  std::vector<int> answered;
  {
    Worker worker("test worker", "test_callback_threw", /*max_batch=*/10, /*max_queue=*/100,
                  [](std::span<const std::unique_ptr<int>* const> batch) {
                    std::vector<absl::StatusOr<int>> results;
                    for (const auto* item : batch) results.push_back(**item);
                    return results;
                  });
    worker.Submit(std::make_unique<int>(0),
                  [](absl::StatusOr<int>) { throw std::runtime_error("callback"); });
    for (int i = 1; i <= 3; ++i) {
      worker.Submit(std::make_unique<int>(i),
                    [&answered](absl::StatusOr<int> result) { answered.push_back(*result); });
    }
  }
  EXPECT_EQ(answered, (std::vector<int>{1, 2, 3}));
}

// Answers each request with its value and records the batches; never blocks.
struct BatchLog {
  std::mutex mutex;
  std::vector<std::vector<int>> batches;

  std::vector<absl::StatusOr<int>> Answer(std::span<const std::unique_ptr<int>* const> batch) {
    std::lock_guard lock(mutex);
    batches.emplace_back();
    std::vector<absl::StatusOr<int>> results;
    for (const auto* item : batch) {
      batches.back().push_back(**item);
      results.push_back(**item);
    }
    return results;
  }
};

TEST(BatchWorkerTest, ABatchShortOfItsFillTargetWaitsForMore) {
  BatchLog log;
  std::promise<void> all_answered;
  int answered = 0;
  {
    Worker worker(
        "test worker", "test_callback_threw", /*max_batch=*/10, /*max_queue=*/100,
        [&](std::span<const std::unique_ptr<int>* const> batch) { return log.Answer(batch); },
        /*fill_wait=*/std::chrono::minutes(10), /*fill_target=*/3);
    const auto submit = [&](int i) {
      worker.Submit(std::make_unique<int>(i), [&](absl::StatusOr<int>) {
        if (++answered == 3) all_answered.set_value();
      });
    };
    submit(0);
    // Without the fill wait, the worker would answer 0 alone long before 1 and 2 arrive.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    submit(1);
    submit(2);
    all_answered.get_future().wait();  // the target, not the ten minutes, ended the wait
  }
  EXPECT_EQ(log.batches, (std::vector<std::vector<int>>{{0, 1, 2}}));
}

TEST(BatchWorkerTest, AShortBatchGoesWhenTheFillWaitEnds) {
  BatchLog log;
  std::promise<void> answered;
  Worker worker(
      "test worker", "test_callback_threw", /*max_batch=*/10, /*max_queue=*/100,
      [&](std::span<const std::unique_ptr<int>* const> batch) { return log.Answer(batch); },
      /*fill_wait=*/std::chrono::milliseconds(20), /*fill_target=*/5);
  worker.Submit(std::make_unique<int>(7), [&](absl::StatusOr<int>) { answered.set_value(); });
  // Far beyond the 20 ms: only a worker that waits for the target forever misses it.
  ASSERT_EQ(answered.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  std::lock_guard lock(log.mutex);
  EXPECT_EQ(log.batches, (std::vector<std::vector<int>>{{7}}));
}

TEST(BatchWorkerTest, StoppingEndsTheFillWaitAndAnswersWhatIsQueued) {
  BatchLog log;
  std::optional<int> answered;
  const auto started = std::chrono::steady_clock::now();
  {
    Worker worker(
        "test worker", "test_callback_threw", /*max_batch=*/10, /*max_queue=*/100,
        [&](std::span<const std::unique_ptr<int>* const> batch) { return log.Answer(batch); },
        /*fill_wait=*/std::chrono::hours(1), /*fill_target=*/5);
    worker.Submit(std::make_unique<int>(4),
                  [&](absl::StatusOr<int> result) { answered = *result; });
  }
  EXPECT_EQ(answered, 4);
  // Not a speed check: a destructor that sat out the hour's wait would still be waiting.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes(5));
}

}  // namespace
}  // namespace keyline::store
