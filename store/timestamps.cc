#include "store/timestamps.h"

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace keyline::store {

std::string FormatRfc3339Micros(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
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
