#include "common/der_writer.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>

#include <string>

namespace keyline::der {
namespace {

std::string Time(int64_t year, int month, int day, int hour, int minute, int second) {
  return GeneralizedTime(absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                         absl::UTCTimeZone()));
}

TEST(DerWriterTest, LengthsAreShortUpTo127AndLongAndMinimalAfter) {
  const auto header = [](size_t length) {
    std::string out;
    AppendHeader(out, kOctetString, length);
    EXPECT_EQ(out.size(), HeaderSize(length)) << length;
    return out;
  };
  EXPECT_EQ(header(0), std::string("\x04\x00", 2));
  EXPECT_EQ(header(0x7f), "\x04\x7f");
  EXPECT_EQ(header(0x80), "\x04\x81\x80");
  EXPECT_EQ(header(0xff), "\x04\x81\xff");
  EXPECT_EQ(header(0x100), std::string("\x04\x82\x01\x00", 4));
  EXPECT_EQ(header(0x12345), "\x04\x83\x01\x23\x45");
  EXPECT_EQ(HeaderSize(0xffffff), 5u);
  EXPECT_EQ(header(0x1000000), std::string("\x04\x84\x01\x00\x00\x00", 6));
}

TEST(DerWriterTest, TlvOfOneContentEqualsTlvOfItsParts) {
  const std::string content(300, 'x');
  const std::string tlv = Tlv(kSequence, content);
  EXPECT_EQ(tlv, "\x30\x82\x01\x2c" + content);
  EXPECT_EQ(Tlv(kSequence,
                {std::string_view(content).substr(0, 100), std::string_view(content).substr(100)}),
            tlv);
  std::string appended = "prefix";
  AppendTlv(appended, kSequence, {content});
  EXPECT_EQ(appended, "prefix" + tlv);
  EXPECT_EQ(Tlv(kNull, {}), std::string("\x05\x00", 2));
}

TEST(DerWriterTest, EncodableTimesAreTheFourDigitYears) {
  const auto at = [](int64_t year, int month, int day, int hour, int minute, int second) {
    return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                           absl::UTCTimeZone());
  };
  EXPECT_TRUE(IsEncodableTime(at(1, 1, 1, 0, 0, 0)));
  EXPECT_FALSE(IsEncodableTime(at(1, 1, 1, 0, 0, 0) - absl::Nanoseconds(1)));
  EXPECT_TRUE(IsEncodableTime(at(9999, 12, 31, 23, 59, 59) + absl::Milliseconds(999)));
  EXPECT_FALSE(IsEncodableTime(at(10000, 1, 1, 0, 0, 0)));
  EXPECT_FALSE(IsEncodableTime(absl::InfinitePast()));
  EXPECT_FALSE(IsEncodableTime(absl::InfiniteFuture()));
  EXPECT_EQ(TruncateToSecond(absl::FromUnixSeconds(-1) + absl::Milliseconds(1)),
            absl::FromUnixSeconds(-1));
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
}  // namespace keyline::der
