#include "hsm/ec_public_key.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "hsm/ec_curve.h"

namespace keyline::hsm {
namespace {

std::string UncompressedPoint(EVP_PKEY* key) {
  unsigned char point[256];
  size_t length = 0;
  EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                            sizeof(point), &length),
            1);
  return std::string(reinterpret_cast<const char*>(point), length);
}

std::string WrapInOctetString(const std::string& point) {
  // Short-form length: every point here is under 128 bytes.
  return std::string("\x04", 1) + static_cast<char>(point.size()) + point;
}

TEST(EcPublicKeyTest, AcceptsWrappedAndBarePoints) {
  for (const auto& [algorithm, curve] : {std::pair{KeyAlgorithm::kEcdsaP256, "P-256"},
                                         std::pair{KeyAlgorithm::kEcdsaP384, "P-384"}}) {
    SCOPED_TRACE(curve);
    const EvpPkeyPtr original(EVP_EC_gen(curve));
    ASSERT_NE(original, nullptr);
    const std::string point = UncompressedPoint(original.get());
    ASSERT_EQ(point.size(), 1 + 2 * FieldLength(algorithm));
    for (const std::string& encoded : {WrapInOctetString(point), point}) {
      const absl::StatusOr<EvpPkeyPtr> key = EcPublicKeyFromPoint(algorithm, encoded);
      ASSERT_TRUE(key.ok()) << key.status();
      EXPECT_EQ(EVP_PKEY_eq(key->get(), original.get()), 1);
    }
  }
}

TEST(EcPublicKeyTest, RefusesPointsThatAreNotOnTheCurve) {
  const EvpPkeyPtr original(EVP_EC_gen("P-256"));
  std::string point = UncompressedPoint(original.get());
  point[40] ^= 1;  // y no longer matches x
  EXPECT_EQ(
      EcPublicKeyFromPoint(KeyAlgorithm::kEcdsaP256, WrapInOctetString(point)).status().code(),
      absl::StatusCode::kFailedPrecondition);
  // A P-256 point for a P-384 key, garbage, a compressed point, and an empty attribute.
  const std::string good = UncompressedPoint(original.get());
  EXPECT_FALSE(EcPublicKeyFromPoint(KeyAlgorithm::kEcdsaP384, WrapInOctetString(good)).ok());
  EXPECT_FALSE(EcPublicKeyFromPoint(KeyAlgorithm::kEcdsaP256, "garbage").ok());
  std::string compressed = good.substr(0, 33);
  compressed[0] = 0x02;
  EXPECT_FALSE(EcPublicKeyFromPoint(KeyAlgorithm::kEcdsaP256, WrapInOctetString(compressed)).ok());
  EXPECT_FALSE(EcPublicKeyFromPoint(KeyAlgorithm::kEcdsaP256, "").ok());
  // Trailing bytes after the OCTET STRING.
  EXPECT_FALSE(EcPublicKeyFromPoint(KeyAlgorithm::kEcdsaP256, WrapInOctetString(good) + "x").ok());
}

TEST(EcCurveTest, EncodesAndRecognisesNamedCurves) {
  const absl::StatusOr<std::string> p256 = EcParamsForAlgorithm(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(p256.ok());
  EXPECT_EQ(*p256, std::string("\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10));
  const absl::StatusOr<std::string> p384 = EcParamsForAlgorithm(KeyAlgorithm::kEcdsaP384);
  ASSERT_TRUE(p384.ok());
  EXPECT_EQ(*p384, std::string("\x06\x05\x2b\x81\x04\x00\x22", 7));
  EXPECT_EQ(*AlgorithmForEcParams(*p256), KeyAlgorithm::kEcdsaP256);
  EXPECT_EQ(*AlgorithmForEcParams(*p384), KeyAlgorithm::kEcdsaP384);
  // secp256k1, a truncated OID, trailing bytes, and a printable curve name.
  EXPECT_EQ(AlgorithmForEcParams(std::string("\x06\x05\x2b\x81\x04\x00\x0a", 7)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(AlgorithmForEcParams(p256->substr(0, 6)).ok());
  EXPECT_FALSE(AlgorithmForEcParams(*p256 + "x").ok());
  EXPECT_FALSE(AlgorithmForEcParams("\x13\x0aprime256v1").ok());
}

}  // namespace
}  // namespace keyline::hsm
