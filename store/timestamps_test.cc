#include "store/timestamps.h"

#include <gtest/gtest.h>

namespace keyline::store {
namespace {

TEST(TimestampsTest, FormatsUtcWithSixFractionalDigits) {
  EXPECT_EQ(FormatRfc3339Micros(absl::FromUnixMicros(1'764'171'579'123'456)),
            "2025-11-26T15:39:39.123456Z");
  EXPECT_EQ(FormatRfc3339Micros(absl::UnixEpoch()), "1970-01-01T00:00:00.000000Z");
  // Sub-microsecond parts are dropped toward the past, also before the epoch.
  EXPECT_EQ(FormatRfc3339Micros(absl::UnixEpoch() - absl::Nanoseconds(1)),
            "1969-12-31T23:59:59.999999Z");
}

TEST(TimestampsTest, TruncatesLikeTheDatabase) {
  const absl::Time time = absl::FromUnixNanos(1'000'001'999);
  EXPECT_EQ(TruncateToMicros(time), absl::FromUnixMicros(1'000'001));
  EXPECT_EQ(TruncateToMicros(absl::UnixEpoch() - absl::Nanoseconds(1)), absl::FromUnixMicros(-1));
  EXPECT_EQ(FormatRfc3339Micros(TruncateToMicros(time)), FormatRfc3339Micros(time));
}

TEST(TimestampsTest, RejectsInfiniteTimesNamingTheField) {
  const auto result = TimestamptzParam(absl::InfiniteFuture(), "certificate.not_after");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("certificate.not_after"), absl::string_view::npos);
  EXPECT_FALSE(TimestamptzParam(absl::InfinitePast(), "x").ok());
  EXPECT_TRUE(TimestamptzParam(absl::UnixEpoch(), "x").ok());
}

TEST(TimestampsTest, EpochMicrosSqlIsExact) {
  EXPECT_EQ(EpochMicrosSql("issued_at"), "(extract(epoch from issued_at) * 1000000)::bigint");
}

}  // namespace
}  // namespace keyline::store
