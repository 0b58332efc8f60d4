#include "store/batch_worker.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace keyline::store {
namespace {

// Records each batch; the first batch blocks until `release` is set, so that what is submitted
// meanwhile queues up behind it.
struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<int>> batches;
  std::promise<void> first_started;
  std::shared_future<void> release;

  void Process(std::vector<std::unique_ptr<int>>& batch) {
    bool first;
    {
      std::lock_guard lock(mutex);
      first = batches.empty();
      batches.emplace_back();
      for (const auto& item : batch) batches.back().push_back(*item);
    }
    if (first) {
      first_started.set_value();
      release.wait();
    }
  }
};

TEST(BatchWorkerTest, WhatQueuesDuringABatchIsTheNextBatchUpToMaxBatch) {
  std::promise<void> release;
  Recorder recorder;
  recorder.release = release.get_future().share();
  {
    BatchWorker<std::unique_ptr<int>> worker(
        "test worker", /*max_batch=*/3, /*max_queue=*/100,
        [&](std::vector<std::unique_ptr<int>>& batch) { recorder.Process(batch); });
    ASSERT_TRUE(worker.Submit(std::make_unique<int>(0)).ok());
    recorder.first_started.get_future().wait();
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(worker.Submit(std::make_unique<int>(i)).ok());
    release.set_value();
  }  // the destructor processes what is queued before it returns
  const std::vector<std::vector<int>> expected = {{0}, {1, 2, 3}, {4, 5}};
  EXPECT_EQ(recorder.batches, expected);
}

TEST(BatchWorkerTest, AFullQueueRefusesAndLeavesTheItemToTheCaller) {
  std::promise<void> release;
  Recorder recorder;
  recorder.release = release.get_future().share();
  BatchWorker<std::unique_ptr<int>> worker(
      "test worker", /*max_batch=*/10, /*max_queue=*/2,
      [&](std::vector<std::unique_ptr<int>>& batch) { recorder.Process(batch); });
  ASSERT_TRUE(worker.Submit(std::make_unique<int>(0)).ok());
  recorder.first_started.get_future().wait();  // taken off the queue
  ASSERT_TRUE(worker.Submit(std::make_unique<int>(1)).ok());
  ASSERT_TRUE(worker.Submit(std::make_unique<int>(2)).ok());
  auto refused = std::make_unique<int>(3);
  const absl::Status status = worker.Submit(std::move(refused));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(status.message(), "test worker queue is full (2 waiting for the database)");
  ASSERT_NE(refused, nullptr);  // not moved from: the caller still owns it
  EXPECT_EQ(*refused, 3);
  release.set_value();
}

}  // namespace
}  // namespace keyline::store
