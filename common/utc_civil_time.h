// Calendar fields of a UTC instant, by arithmetic.
//
// absl::FormatTime and absl::ToCivilSecond go through the time-zone machinery, about 1 µs a call
// even for UTC; the CRL encoder formats a million entry dates, and every enrollment formats
// several timestamps for PostgreSQL. Proleptic Gregorian calendar, like absl's.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace keyline {

struct UtcCivilSecond {
  int64_t year;
  unsigned month, day, hour, minute, second;  // 1-12, 1-31, 0-23, 0-59, 0-59
};

// Howard Hinnant's days-to-civil algorithm (valid for any int64 day count this can hold).
UtcCivilSecond ToUtcCivil(int64_t unix_seconds);

// Writes `value` (0-99) as two digits; returns the end.
inline char* WriteTwoDigits(char* out, unsigned value) {
  out[0] = static_cast<char>('0' + value / 10 % 10);
  out[1] = static_cast<char>('0' + value % 10);
  return out + 2;
}

}  // namespace keyline
