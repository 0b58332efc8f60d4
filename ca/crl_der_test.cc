#include "ca/crl_der.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {
namespace {

using X509RevokedPtr = OpenSslPtr<X509_REVOKED, X509_REVOKED_free>;
using Asn1EnumeratedPtr = OpenSslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;
using Asn1GeneralizedTimePtr = OpenSslPtr<ASN1_GENERALIZEDTIME, ASN1_GENERALIZEDTIME_free>;

absl::Time At(int year, int month, int day, int hour, int minute, int second) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

std::string TimeDer(absl::Time time) {
  std::string out;
  AppendCrlTime(out, time);
  return out;
}

std::string Content(std::string_view magnitude) {
  std::string content;
  EXPECT_TRUE(SerialIntegerContent(magnitude, "serial", &content).ok());
  return content;
}

TEST(CrlDerTest, TimeIsUtcTimeThrough2049AndGeneralizedTimeOtherwise) {
  EXPECT_EQ(TimeDer(At(2026, 11, 26, 23, 4, 5)), std::string("\x17\x0d") + "261126230405Z");
  EXPECT_EQ(TimeDer(At(2049, 12, 31, 23, 59, 59)), std::string("\x17\x0d") + "491231235959Z");
  EXPECT_EQ(TimeDer(At(2050, 1, 1, 0, 0, 0)), std::string("\x18\x0f") + "20500101000000Z");
  EXPECT_EQ(TimeDer(At(1950, 1, 1, 0, 0, 0)), std::string("\x17\x0d") + "500101000000Z");
  EXPECT_EQ(TimeDer(At(1949, 12, 31, 23, 59, 59)), std::string("\x18\x0f") + "19491231235959Z");
  EXPECT_EQ(TimeDer(At(2000, 2, 29, 12, 0, 0)), std::string("\x17\x0d") + "000229120000Z");
  EXPECT_EQ(TimeDer(At(9999, 12, 31, 23, 59, 59)), std::string("\x18\x0f") + "99991231235959Z");
  EXPECT_EQ(TimeDer(At(1, 1, 1, 0, 0, 0)), std::string("\x18\x0f") + "00010101000000Z");
}

TEST(CrlDerTest, TimeDropsFractionsOfASecond) {
  EXPECT_EQ(TimeDer(At(2026, 1, 2, 3, 4, 5) + absl::Milliseconds(999)),
            std::string("\x17\x0d") + "260102030405Z");
  // Before 1970 the fraction still rounds down, not toward zero.
  EXPECT_EQ(TimeDer(At(1960, 1, 2, 3, 4, 5) + absl::Milliseconds(500)),
            std::string("\x17\x0d") + "600102030405Z");
}

TEST(CrlDerTest, CalendarMatchesAbseilOverManyDays) {
  for (int64_t day = -800000; day < 2900000; day += 997) {
    const absl::Time time = absl::FromUnixSeconds(day * 86400 + 3723);
    const absl::CivilSecond civil = absl::ToCivilSecond(time, absl::UTCTimeZone());
    if (civil.year() < 1 || civil.year() > 9999) continue;
    std::string expected =
        absl::StrFormat("%04d%02d%02d%02d%02d%02dZ", civil.year(), civil.month(), civil.day(),
                        civil.hour(), civil.minute(), civil.second());
    if (civil.year() >= 1950 && civil.year() <= 2049) expected = expected.substr(2);
    ASSERT_EQ(TimeDer(time).substr(2), expected) << day;
  }
}

TEST(CrlDerTest, CheckCrlTimeRejectsYearsATimeCannotName) {
  EXPECT_TRUE(CheckCrlTime(At(1, 1, 1, 0, 0, 0), "t").ok());
  EXPECT_TRUE(CheckCrlTime(At(9999, 12, 31, 23, 59, 59), "t").ok());
  const absl::Status before = CheckCrlTime(At(0, 12, 31, 23, 59, 59), "revoked_at");
  EXPECT_EQ(before.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(before.message().find("revoked_at"), absl::string_view::npos);
  EXPECT_EQ(CheckCrlTime(At(10000, 1, 1, 0, 0, 0), "t").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckCrlTime(absl::InfiniteFuture(), "t").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckCrlTime(absl::InfinitePast(), "t").code(), absl::StatusCode::kInvalidArgument);
}

TEST(CrlDerTest, CheckCrlReasonAcceptsRfc5280CodesOnly) {
  for (int reason : {0, 1, 2, 3, 4, 5, 6, 8, 9, 10}) {
    EXPECT_TRUE(CheckCrlReason(reason, "reason").ok()) << reason;
  }
  for (int reason : {-1, 7, 11, 255}) {
    const absl::Status status = CheckCrlReason(reason, "reason");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << reason;
    EXPECT_NE(status.message().find("reason"), absl::string_view::npos);
  }
}

TEST(CrlDerTest, SerialContentIsAMinimalPositiveInteger) {
  EXPECT_EQ(Content("\x01\x02"), "\x01\x02");
  EXPECT_EQ(Content(std::string("\x00\x00\x7f", 3)), "\x7f");
  EXPECT_EQ(Content("\x80"), std::string("\x00\x80", 2));
  EXPECT_EQ(Content(std::string(20, '\xff')), std::string(1, '\0') + std::string(20, '\xff'));
  EXPECT_EQ(Content(std::string(4, '\0') + std::string(20, '\x11')), std::string(20, '\x11'));
}

TEST(CrlDerTest, SerialContentRejectsEmptyZeroAndLongSerials) {
  std::string content = "untouched";
  for (const std::string& bad :
       {std::string(), std::string(1, '\0'), std::string(5, '\0'), std::string(21, '\x01')}) {
    const absl::Status status = SerialIntegerContent(bad, "serial", &content);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.size();
    EXPECT_TRUE(absl::StartsWith(status.message(), "serial: ")) << status;
  }
  EXPECT_EQ(content, "untouched");
}

TEST(CrlDerTest, UnsignedIntegersAreMinimalAndPositive) {
  EXPECT_EQ(DerUnsignedInteger(0), std::string("\x02\x01\x00", 3));
  EXPECT_EQ(DerUnsignedInteger(127), "\x02\x01\x7f");
  EXPECT_EQ(DerUnsignedInteger(128), std::string("\x02\x02\x00\x80", 4));
  EXPECT_EQ(DerUnsignedInteger(0x0100), std::string("\x02\x02\x01\x00", 4));
  EXPECT_EQ(DerUnsignedInteger(UINT64_MAX), std::string("\x02\x09\x00", 3) + std::string(8, '\xff'));
}

X509RevokedPtr ParseEntry(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509RevokedPtr entry(d2i_X509_REVOKED(nullptr, &cursor, static_cast<long>(der.size())));
  EXPECT_TRUE(entry);
  EXPECT_EQ(cursor, reinterpret_cast<const unsigned char*>(der.data() + der.size()));
  return entry;
}

TEST(CrlDerTest, EntryWithoutReasonHasNoExtensions) {
  char buffer[kMaxRevokedEntryBytes];
  const std::string serial = Content("\x8f\x01\x02");
  const size_t length =
      EncodeRevokedEntry(serial, At(2026, 5, 6, 7, 8, 9), 0, std::nullopt, buffer);
  const std::string_view der(buffer, length);
  EXPECT_EQ(SerialContentOfEntry(buffer), serial);
  X509RevokedPtr entry = ParseEntry(der);
  ASSERT_TRUE(entry);
  EXPECT_EQ(X509_REVOKED_get_ext_count(entry.get()), 0);
  BigNumPtr number(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(entry.get()), nullptr));
  EXPECT_EQ(BN_get_word(number.get()), 0x8f0102u);
  Asn1TimePtr expected(ASN1_TIME_set(nullptr, absl::ToTimeT(At(2026, 5, 6, 7, 8, 9))));
  EXPECT_EQ(ASN1_TIME_compare(X509_REVOKED_get0_revocationDate(entry.get()), expected.get()), 0);
}

TEST(CrlDerTest, EntryCarriesReasonAndInvalidityDate) {
  char buffer[kMaxRevokedEntryBytes];
  const absl::Time compromised = At(2060, 1, 2, 3, 4, 5);
  const size_t length = EncodeRevokedEntry(Content(std::string(20, '\xff')),
                                           At(2070, 5, 6, 7, 8, 9), 1, compromised, buffer);
  // The longest entry there is still fits a one-octet length.
  EXPECT_LE(length, kMaxRevokedEntryBytes);
  X509RevokedPtr entry = ParseEntry(std::string_view(buffer, length));
  ASSERT_TRUE(entry);
  int critical = -1;
  Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(entry.get(), NID_crl_reason, &critical, nullptr)));
  ASSERT_TRUE(reason);
  EXPECT_EQ(ASN1_ENUMERATED_get(reason.get()), 1);
  EXPECT_EQ(critical, 0);
  Asn1GeneralizedTimePtr invalidity(static_cast<ASN1_GENERALIZEDTIME*>(
      X509_REVOKED_get_ext_d2i(entry.get(), NID_invalidity_date, nullptr, nullptr)));
  ASSERT_TRUE(invalidity);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(invalidity->data), invalidity->length),
            "20600102030405Z");
  EXPECT_EQ(X509_REVOKED_get0_revocationDate(entry.get())->type, V_ASN1_GENERALIZEDTIME);
}

TEST(CrlDerTest, InvalidityDateIsGeneralizedTimeEvenBefore2050) {
  char buffer[kMaxRevokedEntryBytes];
  const size_t length = EncodeRevokedEntry(Content("\x01"), At(2026, 5, 6, 7, 8, 9), 0,
                                           At(2026, 5, 1, 0, 0, 0), buffer);
  X509RevokedPtr entry = ParseEntry(std::string_view(buffer, length));
  ASSERT_TRUE(entry);
  EXPECT_EQ(X509_REVOKED_get_ext_count(entry.get()), 1);  // no reasonCode for unspecified
  Asn1GeneralizedTimePtr invalidity(static_cast<ASN1_GENERALIZEDTIME*>(
      X509_REVOKED_get_ext_d2i(entry.get(), NID_invalidity_date, nullptr, nullptr)));
  ASSERT_TRUE(invalidity);
  EXPECT_EQ(invalidity->type, V_ASN1_GENERALIZEDTIME);
  EXPECT_EQ(X509_REVOKED_get0_revocationDate(entry.get())->type, V_ASN1_UTCTIME);
}

}  // namespace
}  // namespace keyline::ca
