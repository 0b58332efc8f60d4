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

TEST(TimestampsTest, FormatsWhatAbseilFormats) {
  const auto absl_format = [](absl::Time time) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
  };
  // Leap days, century and 400-year boundaries, both sides of the epoch, sub-microseconds, and the
  // years outside 1000-9999 that take absl's own path (its %Y does not pad to four digits).
  const absl::Time moments[] = {
      absl::FromCivil(absl::CivilSecond(2024, 2, 29, 23, 59, 59), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(2000, 3, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(1900, 2, 28, 12, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(2100, 3, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(0, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
      absl::FromCivil(absl::CivilSecond(-1, 12, 31, 0, 0, 0), absl::UTCTimeZone()),
      absl::UnixEpoch() - absl::Nanoseconds(1500),
      absl::FromUnixNanos(1'764'171'579'000'000'999),
  };
  for (const absl::Time time : moments) EXPECT_EQ(FormatRfc3339Micros(time), absl_format(time));
  // And a walk over 800 years in steps that land on every hour, minute and fraction.
  for (absl::Time time =
           absl::FromCivil(absl::CivilSecond(1700, 1, 1, 0, 0, 0), absl::UTCTimeZone());
       time < absl::FromCivil(absl::CivilSecond(2500, 1, 1, 0, 0, 0), absl::UTCTimeZone());
       time += absl::Hours(24 * 3) + absl::Seconds(3601) + absl::Microseconds(123457)) {
    ASSERT_EQ(FormatRfc3339Micros(time), absl_format(time));
  }
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
