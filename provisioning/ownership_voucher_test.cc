#include "provisioning/ownership_voucher.h"

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "ca/certificate_der.h"
#include "keyline/v1/common.pb.h"
#include "provisioning/testing/test_pki.h"

namespace keyline::provisioning {
namespace {

class OwnershipVoucherTest : public ::testing::Test {
 protected:
  VoucherContent Content(absl::Duration validity = absl::Hours(24)) {
    const absl::Time now = absl::Now();
    return {"SN-1", std::string(32, '\x03'), "default", "keyline", now, now + validity};
  }
  const X509* Anchor() { return pki_.manufacturer_ca->certificate(); }
  testing::TestPki pki_;
};

TEST_F(OwnershipVoucherTest, SignedVoucherVerifiesAgainstItsManufacturer) {
  auto signed_voucher = SignVoucher(Content(), *pki_.manufacturer_ca);
  ASSERT_TRUE(signed_voucher.ok());
  auto parsed = ParseSignedVoucher(*signed_voucher, "voucher");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto content = VerifyVoucher(*parsed, Anchor(), absl::Now(), "voucher");
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_EQ(content->device_serial, "SN-1");
  EXPECT_EQ(content->owner, "default");
  EXPECT_EQ(content->attestation_key_sha256, std::string(32, '\x03'));
}

TEST_F(OwnershipVoucherTest, RefusesAlteredContentAndSignatures) {
  keyline::v1::SignedVoucher message;
  ASSERT_TRUE(message.ParseFromString(*SignVoucher(Content(), *pki_.manufacturer_ca)));
  keyline::v1::SignedVoucher altered = message;
  std::string body = altered.voucher();
  body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 1);
  altered.set_voucher(body);
  auto parsed = ParseSignedVoucher(altered.SerializeAsString(), "voucher");
  ASSERT_TRUE(parsed.ok());
  auto verified = VerifyVoucher(*parsed, Anchor(), absl::Now(), "voucher");
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(verified.status().message(), "voucher: signature does not verify");
}

TEST_F(OwnershipVoucherTest, RefusesExpiredVouchers) {
  auto signed_voucher = SignVoucher(Content(absl::Seconds(1)), *pki_.manufacturer_ca);
  auto parsed = ParseSignedVoucher(*signed_voucher, "voucher");
  auto verified = VerifyVoucher(*parsed, Anchor(), absl::Now() + absl::Seconds(2), "voucher");
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(OwnershipVoucherTest, RefusesSignersOfOtherManufacturers) {
  auto signed_voucher = SignVoucher(Content(), *pki_.deployment_ca);  // not the manufacturer
  auto parsed = ParseSignedVoucher(*signed_voucher, "voucher");
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(SignerBelongsTo(parsed->signer.get(), Anchor(), absl::Now()));
  auto verified = VerifyVoucher(*parsed, Anchor(), absl::Now(), "voucher");
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kPermissionDenied);
  // A signer the anchor issued is accepted (vendors sign with intermediates).
  EXPECT_TRUE(SignerBelongsTo(pki_.manufacturer_ca->certificate(), pki_.root->certificate(),
                              absl::Now()));
}

// A device's attestation key signs whatever its host hands the secure element. Were its
// certificate (issued by the anchor, as every device's is) a valid signer, one device's owner could
// forge a voucher for any other device of the manufacturer.
TEST_F(OwnershipVoucherTest, RefusesADeviceCertificateTheAnchorIssuedAsSigner) {
  const testing::Leaf device = pki_.Attestation("SN-2");
  auto forged = SignVoucherWith(Content(), *device.key, device.der);
  ASSERT_TRUE(forged.ok()) << forged.status();
  auto parsed = ParseSignedVoucher(*forged, "voucher");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(SignerBelongsTo(parsed->signer.get(), Anchor(), absl::Now()));
  auto verified = VerifyVoucher(*parsed, Anchor(), absl::Now(), "voucher");
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(verified.status().message(), "voucher: not signed by the device's manufacturer");
}

TEST_F(OwnershipVoucherTest, ParserRejectsMalformedInput) {
  EXPECT_EQ(ParseSignedVoucher("\xff\xff", "v").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSignedVoucher(std::string(40000, 'x'), "v").status().code(),
            absl::StatusCode::kInvalidArgument);
  keyline::v1::SignedVoucher empty_signer;
  empty_signer.set_voucher("x");
  empty_signer.set_signature("y");
  EXPECT_NE(std::string(ParseSignedVoucher(empty_signer.SerializeAsString(), "v").status().message())
                .find("signer_certificate"),
            std::string::npos);
}

}  // namespace
}  // namespace keyline::provisioning
