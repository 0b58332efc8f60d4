#include "hsm/pkcs11_uri.h"

#include <gtest/gtest.h>

#include "common/absl_compat.h"

namespace keyline::hsm {
namespace {

void ExpectRejected(std::string_view uri, std::string_view expected_in_message) {
  const absl::StatusOr<Pkcs11Uri> parsed = ParsePkcs11Uri(uri);
  ASSERT_FALSE(parsed.ok()) << uri;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << uri;
  EXPECT_NE(AsStd(parsed.status().message()).find(expected_in_message), std::string_view::npos)
      << uri << " -> " << parsed.status();
}

TEST(Pkcs11UriTest, ParsesTokenObjectAndPercentEncodedId) {
  const absl::StatusOr<Pkcs11Uri> uri = ParsePkcs11Uri(
      "pkcs11:token=Keyline%20CA;object=deployment-default;id=%01%A0%ff;type=private");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->token, "Keyline CA");
  EXPECT_EQ(uri->object, "deployment-default");
  EXPECT_EQ(uri->id, std::string("\x01\xa0\xff", 3));
  EXPECT_EQ(uri->type, "private");
  EXPECT_FALSE(uri->module_path.has_value());
  EXPECT_FALSE(uri->manufacturer.has_value());
}

TEST(Pkcs11UriTest, ParsesQueryAttributes) {
  const absl::StatusOr<Pkcs11Uri> uri = ParsePkcs11Uri(
      "pkcs11:token=keyline;object=root?module-path=/usr/lib/softhsm/libsofthsm2.so"
      "&pin-source=file:/etc/keyline/pin&module-name=softhsm2");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->token, "keyline");
  EXPECT_EQ(uri->object, "root");
  EXPECT_EQ(uri->module_path, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(uri->pin_source, "file:/etc/keyline/pin");
  EXPECT_EQ(uri->module_name, "softhsm2");
}

TEST(Pkcs11UriTest, ParsesEveryPathAttributeAndEmptyUri) {
  const absl::StatusOr<Pkcs11Uri> uri = ParsePkcs11Uri(
      "PKCS11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=0123;"
      "token=a%3Bb;type=cert");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->manufacturer, "SoftHSM project");
  EXPECT_EQ(uri->model, "SoftHSM v2");
  EXPECT_EQ(uri->serial, "0123");
  EXPECT_EQ(uri->token, "a;b");
  EXPECT_EQ(uri->type, "cert");

  const absl::StatusOr<Pkcs11Uri> empty = ParsePkcs11Uri("pkcs11:");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_FALSE(empty->token.has_value());
  EXPECT_FALSE(empty->object.has_value());
}

TEST(Pkcs11UriTest, AcceptsEveryType) {
  for (const char* type : {"private", "public", "cert", "secret-key", "data"}) {
    const absl::StatusOr<Pkcs11Uri> uri = ParsePkcs11Uri(std::string("pkcs11:type=") + type);
    ASSERT_TRUE(uri.ok()) << type << ": " << uri.status();
    EXPECT_EQ(uri->type, type);
  }
}

TEST(Pkcs11UriTest, RejectsMissingScheme) {
  ExpectRejected("token=keyline;object=root", "pkcs11:");
  ExpectRejected("pkcs11", "pkcs11:");
  ExpectRejected("", "pkcs11:");
  ExpectRejected("file:token=keyline", "pkcs11:");
}

TEST(Pkcs11UriTest, RejectsBadPercentEncoding) {
  ExpectRejected("pkcs11:token=abc%", "token: bad percent-encoding");
  ExpectRejected("pkcs11:token=abc%4", "token: bad percent-encoding");
  ExpectRejected("pkcs11:id=%zz", "id: bad percent-encoding");
  ExpectRejected("pkcs11:object=a?module-path=%2", "module-path: bad percent-encoding");
}

TEST(Pkcs11UriTest, RejectsCharactersThatMustBeEncoded) {
  ExpectRejected("pkcs11:token=my token", "token: character must be percent-encoded");
  ExpectRejected("pkcs11:object=a/b", "object: character must be percent-encoded");
}

TEST(Pkcs11UriTest, RejectsDuplicateAttributes) {
  ExpectRejected("pkcs11:token=a;object=b;token=c", "token: given more than once");
  ExpectRejected("pkcs11:token=a?module-path=/x&module-path=/y",
                 "module-path: given more than once");
}

TEST(Pkcs11UriTest, RejectsUnknownAndUnsupportedAttributes) {
  ExpectRejected("pkcs11:token=a;objekt=root", "objekt: unknown");
  ExpectRejected("pkcs11:slot-id=0", "slot-id: unknown or unsupported");
  ExpectRejected("pkcs11:token=a?module-pth=/x", "module-pth: unknown");
}

TEST(Pkcs11UriTest, RejectsPinValue) {
  ExpectRejected("pkcs11:token=a?pin-value=1234", "pin-value");
  ExpectRejected("pkcs11:token=a;pin-value=1234", "pin-value");
  // The PIN itself never appears in the message.
  const absl::StatusOr<Pkcs11Uri> parsed = ParsePkcs11Uri("pkcs11:token=a?pin-value=98765");
  EXPECT_EQ(AsStd(parsed.status().message()).find("98765"), std::string_view::npos);
}

TEST(Pkcs11UriTest, RejectsUnknownType) {
  ExpectRejected("pkcs11:token=a;type=privat", "type");
  ExpectRejected("pkcs11:type=", "type");
}

TEST(Pkcs11UriTest, RejectsMalformedAttributes) {
  ExpectRejected("pkcs11:token", "name=value");
  ExpectRejected("pkcs11:=abc", "name=value");
  ExpectRejected("pkcs11:token=a;;object=b", "name=value");
  ExpectRejected("pkcs11:token=a;", "ends with a separator");
  ExpectRejected("pkcs11:token=a?module-path=/x&", "ends with a separator");
}

}  // namespace
}  // namespace keyline::hsm
