#include "ca/serial_number.h"

#include <set>

#include <gtest/gtest.h>

namespace keyline::ca {
namespace {

TEST(SerialNumberTest, SixteenOctetsPositiveWithoutLeadingZero) {
  for (int i = 0; i < 1000; ++i) {
    auto serial = GenerateSerial();
    ASSERT_TRUE(serial.ok());
    ASSERT_EQ(serial->size(), kSerialBytes);
    const auto first = static_cast<unsigned char>((*serial)[0]);
    EXPECT_EQ(first & 0x80, 0) << "negative INTEGER";
    EXPECT_EQ(first & 0x40, 0x40) << "leading octet would be stripped";
  }
}

TEST(SerialNumberTest, DistinctAcrossManyDraws) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) seen.insert(*GenerateSerial());
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(SerialNumberTest, RoundTripsThroughACertificate) {
  auto serial = GenerateSerial();
  ASSERT_TRUE(serial.ok());
  X509Ptr certificate(X509_new());
  Asn1IntegerPtr integer = SerialToAsn1Integer(*serial);
  ASSERT_TRUE(integer);
  ASSERT_EQ(X509_set_serialNumber(certificate.get(), integer.get()), 1);
  EXPECT_EQ(SerialOf(certificate.get()), *serial);
}

TEST(SerialNumberTest, SerialOfRejectsNonPositive) {
  X509Ptr certificate(X509_new());
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), -5);
  EXPECT_EQ(SerialOf(certificate.get()), "");
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 0);
  EXPECT_EQ(SerialOf(certificate.get()), "");
}

}  // namespace
}  // namespace keyline::ca
