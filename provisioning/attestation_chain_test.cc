#include "provisioning/attestation_chain.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "provisioning/testing/test_pki.h"

namespace keyline::provisioning {
namespace {

TEST(AttestationChainTest, ParsesAndVerifiesToTheManufacturerAnchor) {
  testing::TestPki pki;
  testing::Leaf leaf = pki.Attestation("SN-1");
  auto chain = ParseAttestationChain({leaf.der}, "attestation_chain");
  ASSERT_TRUE(chain.ok()) << chain.status();
  // The anchor is an intermediate: partial chains are accepted.
  EXPECT_TRUE(VerifyAttestationChain(*chain, pki.manufacturer_ca->certificate(), absl::Now(),
                                     "attestation_chain")
                  .ok());
  auto wrong = VerifyAttestationChain(*chain, pki.deployment_ca->certificate(), absl::Now(),
                                      "attestation_chain");
  EXPECT_EQ(wrong.code(), absl::StatusCode::kFailedPrecondition);
  auto expired = VerifyAttestationChain(*chain, pki.manufacturer_ca->certificate(),
                                        absl::Now() + absl::Hours(48), "attestation_chain");
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(expired.message()).find("expired"), std::string::npos);
  EXPECT_EQ(AttestationKeyHash(chain->leaf.get())->size(), 32u);
}

TEST(AttestationChainTest, ACaIsNotAnAttestationCertificate) {
  testing::TestPki pki;
  auto chain = ParseAttestationChain({pki.manufacturer_ca->certificate_der()}, "chain");
  ASSERT_TRUE(chain.ok());
  auto status = VerifyAttestationChain(*chain, pki.root->certificate(), absl::Now(), "chain");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AttestationChainTest, ParserLimits) {
  testing::TestPki pki;
  const std::string der = pki.Attestation("SN-1").der;
  EXPECT_EQ(ParseAttestationChain({}, "c").status().message(), "c: empty");
  std::vector<std::string_view> too_many(9, der);
  EXPECT_EQ(ParseAttestationChain(too_many, "c").status().code(), absl::StatusCode::kInvalidArgument);
  const std::string big(17 * 1024, '\x30');
  EXPECT_NE(std::string(ParseAttestationChain({der, big}, "c").status().message()).find("c[1]: "),
            std::string::npos);
  EXPECT_EQ(ParseAttestationChain({der + "x"}, "c").status().message(), "c[0]: not a DER certificate");
}

}  // namespace
}  // namespace keyline::provisioning
