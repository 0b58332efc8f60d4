// Every input CrlBuilder refuses, and that a refusal changes nothing.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "ca/crl_builder.h"
#include "ca/crl_test_pki.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

class CrlBuilderRejectionsTest : public CrlTestPki {
 protected:
  void SetUp() override {
    CrlTestPki::SetUp();
    builder_ = NewBuilder();
    ASSERT_NE(builder_, nullptr);
  }

  static void ExpectInvalid(const absl::Status& status, std::string_view field) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StartsWith(status.message(), AsAbsl(field))) << status;
  }

  absl::StatusOr<BuiltCrl> Full(uint64_t number) {
    return builder_->BuildFull(number, now_, now_ + absl::Hours(1), *ca_key_);
  }

  std::unique_ptr<CrlBuilder> builder_;
};

TEST_F(CrlBuilderRejectionsTest, AddRejectsBadSerials) {
  ExpectInvalid(builder_->Add("", now_, 1).status(), "serial: empty");
  ExpectInvalid(builder_->Add(std::string(3, '\0'), now_, 1).status(), "serial: zero");
  ExpectInvalid(builder_->Add(std::string(21, '\x01'), now_, 1).status(), "serial: longer");
  EXPECT_EQ(builder_->size(), 0u);
}

TEST_F(CrlBuilderRejectionsTest, AddRejectsUnknownReasonCodes) {
  for (int reason : {7, 11, -1, 100}) {
    ExpectInvalid(builder_->Add("\x01", now_, reason).status(), "reason: ");
  }
  EXPECT_EQ(builder_->size(), 0u);
  for (int reason : {0, 1, 2, 3, 4, 5, 6, 8, 9, 10}) {
    EXPECT_TRUE(builder_->Add(std::string(1, static_cast<char>(reason + 1)), now_, reason).ok())
        << reason;
  }
  EXPECT_EQ(builder_->size(), 10u);
}

TEST_F(CrlBuilderRejectionsTest, AddRejectsDatesATimeCannotEncode) {
  const absl::Time year_10000 =
      absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  ExpectInvalid(builder_->Add("\x01", year_10000, 1).status(), "revoked_at: ");
  ExpectInvalid(builder_->Add("\x01", absl::InfinitePast(), 1).status(), "revoked_at: ");
  ExpectInvalid(builder_->Add("\x01", now_, 1, absl::InfiniteFuture()).status(),
                "invalidity_date: ");
  EXPECT_EQ(builder_->size(), 0u);
}

TEST_F(CrlBuilderRejectionsTest, AddBulkWithOneBadEntryStoresNothing) {
  std::vector<std::string> serials = {"\x01", "\x02", "", "\x04"};
  std::vector<RevokedEntry> entries;
  for (const std::string& serial : serials) entries.push_back(RevokedEntry{serial, now_, 1, {}});
  ExpectInvalid(builder_->AddBulk(entries).status(), "entries[2].serial: empty");
  entries[2].serial = "\x03";
  entries[3].reason = 7;
  ExpectInvalid(builder_->AddBulk(entries).status(), "entries[3].reason: ");
  EXPECT_EQ(builder_->size(), 0u);
  entries[3].reason = 1;
  auto stored = builder_->AddBulk(entries);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, 4u);
}

TEST_F(CrlBuilderRejectionsTest, BuildDeltaRejectsABaseNotBelowItsNumber) {
  ASSERT_TRUE(Full(5).ok());
  ExpectInvalid(builder_->BuildDelta(5, 5, now_, now_ + absl::Hours(1), *ca_key_).status(),
                "base_crl_number: ");
  ExpectInvalid(builder_->BuildDelta(4, 5, now_, now_ + absl::Hours(1), *ca_key_).status(),
                "base_crl_number: ");
  EXPECT_EQ(builder_->LatestDelta().der, nullptr);
}

TEST_F(CrlBuilderRejectionsTest, BuildDeltaRejectsABaseItDidNotBuild) {
  ASSERT_TRUE(Full(5).ok());
  auto delta = builder_->BuildDelta(9, 4, now_, now_ + absl::Hours(1), *ca_key_);
  EXPECT_EQ(delta.status().code(), absl::StatusCode::kFailedPrecondition) << delta.status();
  EXPECT_TRUE(builder_->BuildDelta(9, 5, now_, now_ + absl::Hours(1), *ca_key_).ok());
}

TEST_F(CrlBuilderRejectionsTest, BuildDeltaWithFullRejectsABaseNotBelowOrAFullItDidNotBuild) {
  ASSERT_TRUE(Full(5).ok());
  ASSERT_TRUE(Full(7).ok());
  ExpectInvalid(builder_->BuildDeltaWithFull(7, 7, now_, now_ + absl::Hours(1), *ca_key_).status(),
                "base_crl_number: ");
  ExpectInvalid(builder_->BuildDeltaWithFull(5, 7, now_, now_ + absl::Hours(1), *ca_key_).status(),
                "base_crl_number: ");
  const auto unknown_full =
      builder_->BuildDeltaWithFull(9, 5, now_, now_ + absl::Hours(1), *ca_key_).status();
  EXPECT_EQ(unknown_full.code(), absl::StatusCode::kFailedPrecondition) << unknown_full;
  EXPECT_NE(unknown_full.message().find("crl_number: full CRL 9"), std::string::npos);
  const auto unknown_base =
      builder_->BuildDeltaWithFull(7, 6, now_, now_ + absl::Hours(1), *ca_key_).status();
  EXPECT_EQ(unknown_base.code(), absl::StatusCode::kFailedPrecondition) << unknown_base;
  EXPECT_NE(unknown_base.message().find("base_crl_number: full CRL 6"), std::string::npos);
  EXPECT_EQ(builder_->LatestDelta().der, nullptr);
}

TEST_F(CrlBuilderRejectionsTest, OldBasesAreForgotten) {
  for (uint64_t number = 1; number <= 17; ++number) ASSERT_TRUE(Full(number).ok());
  EXPECT_EQ(builder_->BuildDelta(18, 1, now_, now_ + absl::Hours(1), *ca_key_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(builder_->BuildDelta(18, 2, now_, now_ + absl::Hours(1), *ca_key_).ok());
}

TEST_F(CrlBuilderRejectionsTest, BuildRejectsNextUpdateNotAfterThisUpdate) {
  ExpectInvalid(builder_->BuildFull(1, now_, now_, *ca_key_).status(), "next_update: ");
  ExpectInvalid(builder_->BuildFull(1, now_, now_ + absl::Milliseconds(500), *ca_key_).status(),
                "next_update: ");
  ExpectInvalid(builder_->BuildFull(1, now_, now_ - absl::Hours(1), *ca_key_).status(),
                "next_update: ");
  ExpectInvalid(builder_->BuildFull(1, absl::InfinitePast(), now_, *ca_key_).status(),
                "this_update: ");
  ExpectInvalid(builder_->BuildDelta(2, 1, now_, now_, *ca_key_).status(), "next_update: ");
  EXPECT_EQ(builder_->LatestFull().der, nullptr);
}

TEST_F(CrlBuilderRejectionsTest, BuildRejectsAKeyThatIsNotTheCas) {
  auto built = builder_->BuildFull(1, now_, now_ + absl::Hours(1), *root_key_);
  EXPECT_EQ(built.status().code(), absl::StatusCode::kFailedPrecondition) << built.status();
  EXPECT_EQ(builder_->LatestFull().der, nullptr);
  // A failed build is no base for a delta.
  EXPECT_EQ(builder_->BuildDelta(2, 1, now_, now_ + absl::Hours(1), *ca_key_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CrlBuilderRejectionsTest, CreateRejectsWhatCannotIssueCrls) {
  ExpectInvalid(CrlBuilder::Create(nullptr, CrlUrlOfCa()).status(), "ca_certificate: ");
  ExpectInvalid(CrlBuilder::Create(ca_.certificate.get(), "").status(), "crl_url: empty");
  ExpectInvalid(CrlBuilder::Create(ca_.certificate.get(), "http://x/a b.crl").status(),
                "crl_url: ");
  ExpectInvalid(CrlBuilder::Create(ca_.certificate.get(), "http://x/\xc3\xa9.crl").status(),
                "crl_url: ");
  // A device certificate has no cRLSign.
  const TestCertificate leaf = IssueLeaf("dev-1");
  ExpectInvalid(CrlBuilder::Create(leaf.certificate.get(), CrlUrlOfCa()).status(),
                "ca_certificate: keyUsage");
}

TEST(DeltaCrlUrlTest, DeltaGoesBeforeTheCrlSuffix) {
  EXPECT_EQ(DeltaCrlUrl("http://k:8080/crl/deployment-default.crl"),
            "http://k:8080/crl/deployment-default-delta.crl");
  EXPECT_EQ(DeltaCrlUrl("http://k/crl/root"), "http://k/crl/root-delta");
}

}  // namespace
}  // namespace keyline::ca
