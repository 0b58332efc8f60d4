#include "provisioning/attestation_chain.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "provisioning/testing/test_pki.h"
#include "store/sha256.h"

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

// For a registered chain, the outline check must reach VerifyAttestationChain's verdict at every
// moment that matters: either side of each certificate's dates, the anchor's included.
TEST(AttestationChainTest, RegisteredChainDatesAgreeWithFullValidation) {
  testing::TestPki pki;
  struct Case {
    std::string name;
    std::vector<std::string> der;
    const X509* anchor;
  };
  const std::string short_leaf = pki.Attestation("SN-short", absl::Hours(24)).der;
  // Outlives the manufacturer CA that anchors it: its anchor expires first.
  const std::string long_leaf = pki.Attestation("SN-long", absl::Hours(24 * 365 * 60)).der;
  const Case cases[] = {
      {"leaf to manufacturer CA", {short_leaf}, pki.manufacturer_ca->certificate()},
      {"leaf outliving its anchor", {long_leaf}, pki.manufacturer_ca->certificate()},
      {"leaf and intermediate to root",
       {short_leaf, pki.manufacturer_ca->certificate_der()},
       pki.root->certificate()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::vector<std::string_view> presented(c.der.begin(), c.der.end());
    auto outlines = OutlineAttestationChain(presented, "chain");
    ASSERT_TRUE(outlines.ok()) << outlines.status();
    auto chain = ParseAttestationChain(presented, "chain");
    ASSERT_TRUE(chain.ok());
    std::vector<absl::Time> moments;
    for (const ca::CertificateOutline& outline : *outlines) {
      moments.insert(moments.end(), {outline.not_before, outline.not_after});
    }
    moments.insert(moments.end(), {ca::NotBeforeOf(c.anchor), ca::NotAfterOf(c.anchor)});
    int refusals = 0;
    for (const absl::Time moment : moments) {
      for (const absl::Duration offset :
           {absl::Seconds(-1), absl::ZeroDuration(), absl::Milliseconds(999), absl::Seconds(1)}) {
        const absl::Time at = moment + offset;
        SCOPED_TRACE(absl::FormatTime(at));
        const absl::Status full = VerifyAttestationChain(*chain, c.anchor, at, "chain");
        const absl::Status quick = CheckRegisteredChainValidity(*outlines, c.anchor, at, "chain");
        EXPECT_EQ(quick, full);
        if (!full.ok()) ++refusals;
      }
    }
    EXPECT_GT(refusals, 0);  // the moments include refusals, not only acceptances
  }
}

TEST(AttestationChainTest, RegisteredChainMeansTheSameBytesInTheSameOrder) {
  const std::string leaf = "leaf";
  const std::vector<std::string> intermediates = {"ica-1", "ica-2"};
  EXPECT_TRUE(IsRegisteredChain({"leaf", "ica-1", "ica-2"}, leaf, intermediates));
  EXPECT_TRUE(IsRegisteredChain({"leaf"}, leaf, {}));
  EXPECT_FALSE(IsRegisteredChain({"leaf"}, leaf, intermediates));
  EXPECT_FALSE(IsRegisteredChain({"leaf", "ica-2", "ica-1"}, leaf, intermediates));
  EXPECT_FALSE(IsRegisteredChain({"leaf", "ica-1", "ica-2", "ica-3"}, leaf, intermediates));
  EXPECT_FALSE(IsRegisteredChain({"leaF", "ica-1", "ica-2"}, leaf, intermediates));
  EXPECT_FALSE(IsRegisteredChain({}, leaf, {}));
}

TEST(AttestationChainTest, OutlinesKeepTheParserLimitsAndErrors) {
  testing::TestPki pki;
  const std::string der = pki.Attestation("SN-1").der;
  EXPECT_EQ(OutlineAttestationChain({}, "c").status().message(), "c: empty");
  std::vector<std::string_view> too_many(9, der);
  EXPECT_EQ(OutlineAttestationChain(too_many, "c").status().message(),
            ParseAttestationChain(too_many, "c").status().message());
  const std::string big(17 * 1024, '\x30');
  EXPECT_EQ(OutlineAttestationChain({der, big}, "c").status().message(),
            ParseAttestationChain({der, big}, "c").status().message());
  EXPECT_EQ(OutlineAttestationChain({der, der + "x"}, "c").status().message(),
            "c[1]: not a DER certificate");
  auto outlines = OutlineAttestationChain({der}, "c");
  ASSERT_TRUE(outlines.ok());
  auto chain = ParseAttestationChain({der}, "c");
  // The key the outline reads is the attestation key registration hashed.
  EXPECT_EQ(store::Sha256((*outlines)[0].public_key_info_der),
            *AttestationKeyHash(chain->leaf.get()));
}

}  // namespace
}  // namespace keyline::provisioning
