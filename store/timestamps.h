// absl::Time <-> PostgreSQL timestamptz, exact to the microsecond and independent of the
// session's TimeZone and DateStyle settings:
//   - to the database as RFC 3339 text with an explicit "Z" ("2026-11-26T15:39:39.123456Z"),
//   - from the database as integer microseconds since the Unix epoch, selected with
//     EpochMicrosSql(column).
// timestamptz keeps microseconds, so times are truncated (toward the past) to whole microseconds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::store {

// RFC 3339 in UTC with exactly six fractional digits. Also the audit log's canonical time format.
std::string FormatRfc3339Micros(absl::Time time);

// The text to pass for a timestamptz parameter. InvalidArgument (naming `field`) for infinite
// times, which no Keyline column stores.
absl::StatusOr<std::string> TimestamptzParam(absl::Time time, std::string_view field);

// SQL selecting a timestamptz column as bigint microseconds since the epoch. `column` is SQL
// text chosen by the caller, never input.
std::string EpochMicrosSql(std::string_view column);

inline absl::Time FromEpochMicros(int64_t micros) { return absl::FromUnixMicros(micros); }

// Drops the sub-microsecond part (toward the past), as storing in timestamptz does.
absl::Time TruncateToMicros(absl::Time time);

}  // namespace keyline::store
