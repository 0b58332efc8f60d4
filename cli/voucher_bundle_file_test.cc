#include "cli/voucher_bundle_file.h"

#include <stdlib.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "cli/testing/test_pki.h"
#include "common/files.h"
#include "store/sha256.h"

namespace keyline::cli {
namespace {

using ::testing::HasSubstr;

class VoucherBundleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "/voucher_bundle_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    manufacturer_ = pki_.IssueCa(ca::Profile::kManufacturerCa, "keyline");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A voucher as a Keyline-hosted manufacturer CA signs it.
  keyline::v1::SignedVoucher Voucher(const std::string& serial, absl::Time expires_at) {
    keyline::v1::OwnershipVoucher content;
    content.set_device_serial(serial);
    content.set_attestation_key_sha256(std::string(32, 'k'));
    content.set_owner("icu");
    content.set_manufacturer("keyline");
    content.mutable_issued_at()->set_seconds(absl::ToUnixSeconds(expires_at) - 86400 * 365);
    content.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(expires_at));
    keyline::v1::SignedVoucher voucher;
    voucher.set_voucher(content.SerializeAsString());
    const auto signature =
        manufacturer_.key->SignDigest(store::Sha256(VoucherSignedMessage(voucher.voucher())));
    EXPECT_TRUE(signature.ok());
    voucher.set_signature(*signature);
    voucher.set_signer_certificate(manufacturer_.der);
    return voucher;
  }

  testing::TestPki pki_;
  testing::TestCa manufacturer_;
  std::string dir_;
  const absl::Time now_ = absl::Now();
};

TEST_F(VoucherBundleFileTest, RoundTripsThroughAFile) {
  keyline::v1::VoucherBundle bundle;
  for (int i = 0; i < 3; ++i) {
    *bundle.add_vouchers() = Voucher("SN-" + std::to_string(i), now_ + absl::Hours(24));
  }
  const std::string path = dir_ + "/vouchers.bin";
  ASSERT_TRUE(WriteVoucherBundle(path, bundle).ok());
  const auto read = ReadVoucherBundle(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->SerializeAsString(), bundle.SerializeAsString());
  // The signed bytes come back byte for byte, so the signatures still verify.
  EXPECT_TRUE(DescribeVoucher(read->vouchers(2), now_).signature_valid);
}

TEST_F(VoucherBundleFileTest, RefusesFilesThatAreNotBundles) {
  const std::string garbage = dir_ + "/garbage.bin";
  ASSERT_TRUE(WriteFileAtomically(garbage, "\xff\xff\xff not protobuf").ok());
  EXPECT_THAT(ReadVoucherBundle(garbage).status().ToString(), HasSubstr("not a voucher bundle"));
  const std::string empty = dir_ + "/empty.bin";
  ASSERT_TRUE(WriteFileAtomically(empty, "").ok());
  EXPECT_THAT(ReadVoucherBundle(empty).status().ToString(), HasSubstr("holds no voucher"));
  EXPECT_EQ(ReadVoucherBundle(dir_ + "/missing.bin").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(VoucherBundleFileTest, DescribesWhatAVoucherSays) {
  const absl::Time expires_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now_ + absl::Hours(48)));
  const VoucherSummary summary = DescribeVoucher(Voucher("SN-7", expires_at), now_);
  EXPECT_EQ(summary.device_serial, "SN-7");
  EXPECT_EQ(summary.owner, "icu");
  EXPECT_EQ(summary.manufacturer, "keyline");
  EXPECT_EQ(summary.expires_at, expires_at);
  EXPECT_TRUE(summary.signature_valid);
  EXPECT_THAT(summary.signer.subject, HasSubstr("Test Hospital"));
  EXPECT_EQ(summary.problem, "");
}

TEST_F(VoucherBundleFileTest, FlagsExpiredTamperedAndMalformedVouchers) {
  EXPECT_THAT(DescribeVoucher(Voucher("SN-1", now_ - absl::Hours(1)), now_).problem,
              HasSubstr("expired at"));

  keyline::v1::SignedVoucher tampered = Voucher("SN-1", now_ + absl::Hours(1));
  keyline::v1::OwnershipVoucher content;
  ASSERT_TRUE(content.ParseFromString(tampered.voucher()));
  content.set_owner("other-hospital");
  tampered.set_voucher(content.SerializeAsString());
  const VoucherSummary summary = DescribeVoucher(tampered, now_);
  EXPECT_EQ(summary.owner, "other-hospital");  // shown, but
  EXPECT_FALSE(summary.signature_valid);        // flagged
  EXPECT_THAT(summary.problem, HasSubstr("signature does not verify"));

  keyline::v1::SignedVoucher garbage = Voucher("SN-1", now_ + absl::Hours(1));
  garbage.set_voucher("\xff\xff");
  EXPECT_THAT(DescribeVoucher(garbage, now_).problem, HasSubstr("not an ownership voucher"));

  keyline::v1::SignedVoucher no_signer = Voucher("SN-1", now_ + absl::Hours(1));
  no_signer.set_signer_certificate("nope");
  EXPECT_THAT(DescribeVoucher(no_signer, now_).problem, HasSubstr("signer certificate"));
}

}  // namespace
}  // namespace keyline::cli
