#include "ca/public_key_decoder.h"

#include <gtest/gtest.h>

#include "ca/software_key.h"

namespace keyline::ca {
namespace {

// Keys the policy accepts are decoded in certificate_outline_test.cc and csr_policy_test.cc.
TEST(PublicKeyDecoderTest, RefusesKeysOutsideThePolicyAndMalformedInfo) {
  auto p256 = GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  const std::string good = *PublicKeyToDer(p256->get());
  EXPECT_EQ(DecodePublicKeyDer(good + '\0', "key").status().message(),
            "key: not a DER SubjectPublicKeyInfo");
  EXPECT_EQ(DecodePublicKeyDer("", "key").status().message(),
            "key: not a DER SubjectPublicKeyInfo");
  // The point's last octet changed: no longer on the curve.
  std::string off_curve = good;
  off_curve.back() ^= 0x01;
  EXPECT_EQ(DecodePublicKeyDer(off_curve, "key").status().message(),
            "key: public key cannot be decoded");
  EvpPkeyPtr p521(EVP_EC_gen("P-521"));
  ASSERT_TRUE(p521);
  auto refused = DecodePublicKeyDer(*PublicKeyToDer(p521.get()), "key");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(refused.status().message()).find("unsupported curve secp521r1"),
            std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace keyline::ca
