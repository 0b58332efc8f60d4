#include "provisioning/enrollment_proof.h"

#include <gtest/gtest.h>

#include "ca/testing/software_signing_key.h"
#include "ca/x509_signing.h"

namespace keyline::provisioning {
namespace {

const std::string kNonce(32, '\x07');
const std::string kKeyHash(32, '\x09');

TEST(EnrollmentProofTest, MessageLayoutIsTheDocumentedOne) {
  auto message = ProofMessage(ProofPurpose::kEnroll, kNonce, "SN-1", kKeyHash);
  ASSERT_TRUE(message.ok());
  const std::string expected = std::string("keyline-enrollment-proof-v1") + '\0' + kNonce +
                               std::string("\x00\x04", 2) + "SN-1" + kKeyHash;
  EXPECT_EQ(*message, expected);
  auto renewal = ProofMessage(ProofPurpose::kRenew, kNonce, "SN-1", kKeyHash);
  EXPECT_EQ(renewal->rfind("keyline-renewal-proof-v1", 0), 0u);
}

TEST(EnrollmentProofTest, RejectsMalformedInputs) {
  EXPECT_FALSE(ProofMessage(ProofPurpose::kEnroll, "short", "SN-1", kKeyHash).ok());
  EXPECT_FALSE(ProofMessage(ProofPurpose::kEnroll, kNonce, "SN-1", "short").ok());
}

TEST(EnrollmentProofTest, VerifiesOnlyTheSignedMessage) {
  auto key = ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  const std::string message = *ProofMessage(ProofPurpose::kEnroll, kNonce, "SN-1", kKeyHash);
  const std::string proof = *ca::SignWithKey(*key, message);
  EXPECT_TRUE(VerifyProof(key->public_key(), message, proof).ok());

  // Another purpose, nonce, serial or key: not the same statement.
  for (const auto& other :
       {*ProofMessage(ProofPurpose::kRenew, kNonce, "SN-1", kKeyHash),
        *ProofMessage(ProofPurpose::kEnroll, std::string(32, '\x08'), "SN-1", kKeyHash),
        *ProofMessage(ProofPurpose::kEnroll, kNonce, "SN-2", kKeyHash),
        *ProofMessage(ProofPurpose::kEnroll, kNonce, "SN-1", std::string(32, '\x0a'))}) {
    const auto status = VerifyProof(key->public_key(), other, proof);
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  }
  auto other_key = ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  EXPECT_FALSE(VerifyProof(other_key->public_key(), message, proof).ok());
  EXPECT_EQ(VerifyProof(key->public_key(), message, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyProof(key->public_key(), message, std::string(600, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace keyline::provisioning
