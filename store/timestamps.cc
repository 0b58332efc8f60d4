#include "store/timestamps.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/utc_civil_time.h"

namespace keyline::store {

std::string FormatRfc3339Micros(absl::Time time) {
  const int64_t micros = absl::ToUnixMicros(time);  // toward the past, like %E6S
  int64_t seconds = micros / 1'000'000;
  int64_t fraction = micros % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const UtcCivilSecond civil = ToUtcCivil(seconds);
  if (time == absl::InfiniteFuture() || time == absl::InfinitePast() || civil.year < 1000 ||
      civil.year > 9999) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());  // as it was
  }
  // Arithmetic rather than absl::FormatTime (~1 µs through the time-zone machinery): every
  // enrollment formats several of these.
  char text[] = "YYYY-MM-DDTHH:MM:SS.ffffffZ";
  const auto year = static_cast<unsigned>(civil.year);
  WriteTwoDigits(text, year / 100);
  WriteTwoDigits(text + 2, year % 100);
  WriteTwoDigits(text + 5, civil.month);
  WriteTwoDigits(text + 8, civil.day);
  WriteTwoDigits(text + 11, civil.hour);
  WriteTwoDigits(text + 14, civil.minute);
  WriteTwoDigits(text + 17, civil.second);
  const auto digits = static_cast<unsigned>(fraction);
  WriteTwoDigits(text + 20, digits / 10'000);
  WriteTwoDigits(text + 22, digits / 100 % 100);
  WriteTwoDigits(text + 24, digits % 100);
  return std::string(text, sizeof(text) - 1);
}

absl::StatusOr<std::string> TimestamptzParam(absl::Time time, std::string_view field) {
  if (time == absl::InfiniteFuture() || time == absl::InfinitePast()) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(field), ": not a finite time"));
  }
  return FormatRfc3339Micros(time);
}

std::string EpochMicrosSql(std::string_view column) {
  // extract(epoch ...) is numeric (exact) since PostgreSQL 14.
  return absl::StrCat("(extract(epoch from ", AsAbsl(column), ") * 1000000)::bigint");
}

absl::Time TruncateToMicros(absl::Time time) {
  return absl::Floor(time - absl::UnixEpoch(), absl::Microseconds(1)) + absl::UnixEpoch();
}

}  // namespace keyline::store
