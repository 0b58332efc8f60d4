#include "cli/batching.h"

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace keyline::cli {
namespace {

using ::testing::HasSubstr;

std::vector<size_t> Sizes(const std::vector<BatchRange>& batches) {
  std::vector<size_t> sizes;
  for (const auto& batch : batches) sizes.push_back(batch.size());
  return sizes;
}

TEST(BatchingTest, SplitsIntoConsecutiveRangesOfAtMostTheBatchSize) {
  EXPECT_TRUE(SplitIntoBatches(0, 5).empty());
  EXPECT_THAT(Sizes(SplitIntoBatches(5, 5)), ::testing::ElementsAre(5));
  EXPECT_THAT(Sizes(SplitIntoBatches(11, 5)), ::testing::ElementsAre(5, 5, 1));
  const auto batches = SplitIntoBatches(2 * kMaxDevicesPerCall + 1, kMaxDevicesPerCall);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[1].begin, kMaxDevicesPerCall);
  EXPECT_EQ(batches[1].end, 2 * kMaxDevicesPerCall);
  EXPECT_EQ(batches[2].size(), 1u);
}

TEST(BatchingTest, StopsAtTheFirstFailureAndNamesTheBatch) {
  std::vector<BatchRange> sent;
  std::ostringstream out;
  Progress progress(out, /*enabled=*/false, "test", 25);
  const absl::Status status = ForEachBatch(
      25, 10,
      [&](const BatchRange& batch) {
        sent.push_back(batch);
        if (batch.begin == 10) return absl::NotFoundError("devices[3]: unknown device X");
        return absl::OkStatus();
      },
      &progress);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "batch 2 of 3 (items 11 to 20): devices[3]: unknown device X");
  EXPECT_EQ(sent.size(), 2u);       // the third batch was never sent
  EXPECT_EQ(progress.done(), 10);   // only the batch that went through
  EXPECT_TRUE(out.str().empty());   // not a terminal: no bar
}

TEST(BatchingTest, RefusesBatchSizeZero) {
  EXPECT_FALSE(ForEachBatch(1, 0, [](const BatchRange&) { return absl::OkStatus(); }).ok());
}

TEST(ProgressTest, DrawsABarAndErasesIt) {
  std::ostringstream out;
  {
    Progress progress(out, /*enabled=*/true, "claiming", 4);
    progress.Advance(2);
    EXPECT_THAT(out.str(), HasSubstr("claiming [###############               ] 2/4 (50%)"));
    progress.Advance(2);  // the last step is always drawn
    EXPECT_THAT(out.str(), HasSubstr("4/4 (100%)"));
  }
  EXPECT_THAT(out.str(), ::testing::EndsWith("\r\033[K"));
}

TEST(ProgressTest, CountsWhenTheTotalIsUnknown) {
  std::ostringstream out;
  Progress progress(out, /*enabled=*/true, "rows", 0);
  progress.Advance(7);
  EXPECT_THAT(out.str(), HasSubstr("rows 7"));
}

}  // namespace
}  // namespace keyline::cli
