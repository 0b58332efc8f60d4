#include "provisioning/presented_attestation_chain.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "ca/certificate_outline.h"
#include "ca/serial_number.h"
#include "provisioning/attestation_chain.h"
#include "provisioning/testing/test_pki.h"

namespace keyline::provisioning {
namespace {

class PresentedAttestationChainTest : public ::testing::Test {
 protected:
  // A device registered with `leaf` alone under the manufacturer CA.
  store::DeviceRecord Registered(const std::string& leaf) {
    store::DeviceRecord device;
    device.serial = "SN-1";
    device.attestation_certificate_der = leaf;
    auto chain = ParseAttestationChain({leaf}, "chain");
    device.attestation_key_sha256 = *AttestationKeyHash(chain->leaf.get());
    return device;
  }

  absl::Status Verify(const std::vector<std::string>& presented, const store::DeviceRecord& device,
                      absl::Time at) {
    auto chain = PresentedAttestationChain::Read({presented.begin(), presented.end()},
                                                 "attestation_chain", &cache_);
    if (!chain.ok()) return chain.status();
    EXPECT_EQ(chain->key_hash(),
              *AttestationKeyHash(ParseAttestationChain({presented.front()}, "chain")->leaf.get()));
    return chain->Verify(device, pki_.manufacturer_ca->certificate(), at);
  }

  // `der` with the first digit of its notBefore made a letter: OpenSSL still parses it (and
  // refuses it only when validating), the outline does not.
  static std::string WithMalformedNotBefore(std::string der) {
    const size_t utc_time = der.find(std::string("\x17\x0d", 2));
    EXPECT_NE(utc_time, std::string::npos);
    der[utc_time + 2] = 'x';
    EXPECT_TRUE(ParseAttestationChain({der}, "c").ok());
    EXPECT_FALSE(ca::ReadCertificateOutline(der).ok());
    return der;
  }

  testing::TestPki pki_;
  ca::CertificateCache cache_{16};
};

TEST_F(PresentedAttestationChainTest, TheRegisteredBytesHaveTheirDatesCheckedAgain) {
  const testing::Leaf leaf = pki_.Attestation("SN-1", absl::Hours(1));
  const store::DeviceRecord device = Registered(leaf.der);
  EXPECT_TRUE(Verify({leaf.der}, device, absl::Now()).ok());
  const absl::Status expired = Verify({leaf.der}, device, absl::Now() + absl::Hours(2));
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(expired.message(), "attestation_chain: certificate has expired");
}

TEST_F(PresentedAttestationChainTest, AnyOtherChainIsValidatedInFull) {
  const testing::Leaf leaf = pki_.Attestation("SN-1");
  const store::DeviceRecord device = Registered(leaf.der);
  // The same key, certified again: not the registered bytes, but it validates.
  auto key_info = ca::PublicKeyInfo::FromKey(leaf.key->public_key());
  ca::ProfileSettings settings;
  const ca::IssueContext context{settings, &*key_info, *ca::GenerateSerial(), absl::Now(), ""};
  const std::string reissued =
      pki_.manufacturer_ca->Issue(ca::AttestationTemplate(context, "SN-1", "Test Sensor"))->der;
  ASSERT_NE(reissued, leaf.der);
  EXPECT_TRUE(Verify({reissued}, device, absl::Now()).ok());
  // Certified by a CA other than the manufacturer's: refused by path validation.
  const std::string foreign =
      pki_.deployment_ca->Issue(ca::AttestationTemplate(context, "SN-1", "Test Sensor"))->der;
  EXPECT_EQ(Verify({foreign}, device, absl::Now()).code(), absl::StatusCode::kFailedPrecondition);
  // Another key altogether.
  const absl::Status other = Verify({pki_.Attestation("SN-1").der}, device, absl::Now());
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.message(), "attestation_chain: not the attestation key registered for SN-1");
}

TEST_F(PresentedAttestationChainTest, ACertificateWithoutAnOutlineTakesTheFullPath) {
  const testing::Leaf leaf = pki_.Attestation("SN-1");
  const std::string malformed = WithMalformedNotBefore(leaf.der);
  // Even registered as such (registration would refuse it), path validation refuses it: its
  // signature no longer matches, nor its notBefore parse.
  const store::DeviceRecord device = Registered(malformed);
  const absl::Status status = Verify({malformed}, device, absl::Now());
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  // Errors of the full parse come out of Read unchanged.
  auto garbage =
      PresentedAttestationChain::Read({leaf.der, "garbage"}, "attestation_chain", &cache_);
  EXPECT_EQ(garbage.status().message(), "attestation_chain[1]: not a DER certificate");
}

TEST_F(PresentedAttestationChainTest, RegisteredAttestationKeyFromTheOutlineOrTheFullParse) {
  const testing::Leaf leaf = pki_.Attestation("SN-1");
  auto key = RegisteredAttestationKey(leaf.der, &cache_);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(EVP_PKEY_eq(key->get(), leaf.key->public_key()), 1);
  auto fallback = RegisteredAttestationKey(WithMalformedNotBefore(leaf.der), &cache_);
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_EQ(EVP_PKEY_eq(fallback->get(), leaf.key->public_key()), 1);
  EXPECT_EQ(RegisteredAttestationKey("garbage", &cache_).status().code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace keyline::provisioning
