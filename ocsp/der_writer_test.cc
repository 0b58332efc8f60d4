#include "ocsp/der_writer.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>

#include <string>

namespace keyline::ocsp::der {
namespace {

std::string Time(int64_t year, int month, int day, int hour, int minute, int second) {
  return GeneralizedTime(absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                         absl::UTCTimeZone()));
}

TEST(DerWriterTest, GeneralizedTimeIsFifteenDigitsAndZ) {
  EXPECT_EQ(Time(2026, 11, 27, 10, 3, 54), std::string("\x18\x0f") + "20261127100354Z");
  EXPECT_EQ(Time(1, 1, 1, 0, 0, 0), std::string("\x18\x0f") + "00010101000000Z");
  EXPECT_EQ(Time(9999, 12, 31, 23, 59, 59), std::string("\x18\x0f") + "99991231235959Z");
  // Fractions of a second are dropped, never rounded up.
  EXPECT_EQ(GeneralizedTime(absl::FromUnixSeconds(1795766634) + absl::Milliseconds(999)),
            Time(2026, 11, 27, 8, 3, 54));
}

TEST(DerWriterTest, GeneralizedTimeReadsBackWithOpenSsl) {
  const absl::Time time = absl::FromUnixSeconds(1795766634);
  const std::string der = GeneralizedTime(time);
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  ASN1_GENERALIZEDTIME* parsed =
      d2i_ASN1_GENERALIZEDTIME(nullptr, &cursor, static_cast<long>(der.size()));
  ASSERT_NE(parsed, nullptr);
  struct tm parts {};
  ASSERT_EQ(ASN1_TIME_to_tm(parsed, &parts), 1);
  ASN1_GENERALIZEDTIME_free(parsed);
  EXPECT_EQ(absl::FromTimeT(timegm(&parts)), time);
}

}  // namespace
}  // namespace keyline::ocsp::der
