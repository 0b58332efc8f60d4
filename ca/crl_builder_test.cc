#include "ca/crl_builder.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "ca/crl_test_pki.h"

namespace keyline::ca {
namespace {

constexpr int kKeyCompromise = 1;
constexpr int kSuperseded = 4;
constexpr int kCessationOfOperation = 5;

class CrlBuilderTest : public CrlTestPki {
 protected:
  void SetUp() override {
    CrlTestPki::SetUp();
    builder_ = NewBuilder();
    ASSERT_NE(builder_, nullptr);
  }

  BuiltCrl Full(uint64_t number) {
    auto built = builder_->BuildFull(number, now_, now_ + absl::Hours(24), *ca_key_);
    EXPECT_TRUE(built.ok()) << built.status();
    return built.ok() ? *built : BuiltCrl{};
  }
  BuiltCrl Delta(uint64_t number, uint64_t base) {
    auto built = builder_->BuildDelta(number, base, now_, now_ + absl::Hours(1), *ca_key_);
    EXPECT_TRUE(built.ok()) << built.status();
    return built.ok() ? *built : BuiltCrl{};
  }
  void Revoke(std::string_view serial, int reason = 0) {
    auto added = builder_->Add(serial, now_ - absl::Minutes(1), reason);
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_TRUE(*added);
  }
  void ExpectVerifies(X509_CRL* crl) {
    EXPECT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(ca_.certificate.get())), 1);
  }

  std::unique_ptr<CrlBuilder> builder_;
};

std::string Serial(uint32_t value) {
  return std::string{static_cast<char>(value >> 24), static_cast<char>(value >> 16),
                     static_cast<char>(value >> 8), static_cast<char>(value)};
}

// OpenSSL leaves the stack null when revokedCertificates is absent.
int EntryCount(X509_CRL* crl) {
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  return revoked == nullptr ? 0 : sk_X509_REVOKED_num(revoked);
}

std::string Trimmed(std::string serial) {
  return serial.substr(serial.find_first_not_of('\0'));
}

// The DER of a CRL's entries, concatenated (OpenSSL keeps each entry's received encoding).
std::string EntriesDer(X509_CRL* crl) {
  std::string der;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    unsigned char* encoded = nullptr;
    const int length = i2d_X509_REVOKED(sk_X509_REVOKED_value(revoked, i), &encoded);
    der.append(reinterpret_cast<char*>(encoded), static_cast<size_t>(length));
    OPENSSL_free(encoded);
  }
  return der;
}

TEST_F(CrlBuilderTest, FullCrlListsEntriesWithReasonsAndDates) {
  const absl::Time compromised = now_ - absl::Hours(30);
  ASSERT_TRUE(*builder_->Add("\x01\x02\x03", now_ - absl::Hours(2), kKeyCompromise, compromised));
  Revoke("\xff\x00\x01", kSuperseded);
  Revoke("\x42");  // unspecified
  const BuiltCrl built = Full(7);
  EXPECT_EQ(built.entries, 3u);
  EXPECT_EQ(built.crl_number, 7u);
  EXPECT_FALSE(built.base_crl_number.has_value());
  X509CrlPtr crl = ParseCrl(*built.der);
  ASSERT_TRUE(crl);
  ExpectVerifies(crl.get());
  EXPECT_EQ(X509_CRL_get_version(crl.get()), 1);  // v2
  EXPECT_EQ(X509_CRL_get_signature_nid(crl.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()),
                          X509_get_subject_name(ca_.certificate.get())),
            0);
  EXPECT_EQ(SerialsOf(crl.get()),
            (std::vector<std::string>{"\x01\x02\x03", "\xff\x00\x01", "\x42"}));

  X509_REVOKED* first = EntryFor(crl.get(), "\x01\x02\x03");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(ReasonOf(first), kKeyCompromise);
  Asn1TimePtr expected_revoked(ASN1_TIME_set(nullptr, absl::ToTimeT(now_ - absl::Hours(2))));
  EXPECT_EQ(ASN1_TIME_compare(X509_REVOKED_get0_revocationDate(first), expected_revoked.get()), 0);
  Asn1TimePtr invalidity(static_cast<ASN1_GENERALIZEDTIME*>(
      X509_REVOKED_get_ext_d2i(first, NID_invalidity_date, nullptr, nullptr)));
  Asn1TimePtr expected_invalidity(ASN1_TIME_set(nullptr, absl::ToTimeT(compromised)));
  ASSERT_TRUE(invalidity);
  EXPECT_EQ(ASN1_TIME_compare(invalidity.get(), expected_invalidity.get()), 0);
  EXPECT_EQ(ReasonOf(EntryFor(crl.get(), "\xff\x00\x01")), kSuperseded);
  X509_REVOKED* unspecified = EntryFor(crl.get(), "\x42");
  ASSERT_NE(unspecified, nullptr);
  EXPECT_EQ(X509_REVOKED_get_ext_count(unspecified), 0);  // RFC 5280 5.3.1: no reasonCode

  Asn1TimePtr this_update(ASN1_TIME_set(nullptr, absl::ToTimeT(now_)));
  Asn1TimePtr next_update(ASN1_TIME_set(nullptr, absl::ToTimeT(now_ + absl::Hours(24))));
  EXPECT_EQ(ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl.get()), this_update.get()), 0);
  EXPECT_EQ(ASN1_TIME_compare(X509_CRL_get0_nextUpdate(crl.get()), next_update.get()), 0);
  EXPECT_EQ(X509_CRL_get0_lastUpdate(crl.get())->type, V_ASN1_UTCTIME);
}

TEST_F(CrlBuilderTest, FullCrlExtensions) {
  Revoke("\x01");
  X509CrlPtr crl = ParseCrl(*Full(12).der);
  ASSERT_TRUE(crl);
  int critical = -1;
  EXPECT_EQ(IntegerExtension(crl.get(), NID_crl_number, &critical), 12);
  EXPECT_EQ(critical, 0);
  EXPECT_EQ(IntegerExtension(crl.get(), NID_delta_crl), -1);
  EXPECT_EQ(IdpUrlOf(crl.get(), &critical), "http://keyline.test:8080/crl/deployment-default.crl");
  EXPECT_EQ(critical, 1);  // RFC 5280 5.2.5
  EXPECT_EQ(FreshestUrlOf(crl.get()),
            "http://keyline.test:8080/crl/deployment-default-delta.crl");
  AuthorityKeyIdPtr key_id(static_cast<AUTHORITY_KEYID*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_authority_key_identifier, nullptr, nullptr)));
  ASSERT_TRUE(key_id);
  ASSERT_NE(key_id->keyid, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(key_id->keyid->data), key_id->keyid->length),
            SubjectKeyIdOf(ca_.certificate.get()));
  EXPECT_EQ(key_id->issuer, nullptr);
  EXPECT_EQ(X509_CRL_get_ext_count(crl.get()), 4);
}

TEST_F(CrlBuilderTest, TheIdpIsTheUrlInTheCertificatesCdp) {
  const TestCertificate leaf = IssueLeaf("dev-1");
  CrlDistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(leaf.certificate.get(), NID_crl_distribution_points, nullptr, nullptr)));
  ASSERT_TRUE(points);
  ASSERT_EQ(sk_DIST_POINT_num(points.get()), 1);
  X509CrlPtr crl = ParseCrl(*Full(1).der);
  int critical = 0;
  EXPECT_EQ(UriOf(sk_DIST_POINT_value(points.get(), 0)->distpoint), IdpUrlOf(crl.get(), &critical));
}

// A root has no CDP of its own: an issuingDistributionPoint would put the root out of its own
// CRL's scope for relying parties that check the whole chain, the root included (OpenSSL's
// -crl_check_all: "different CRL scope"). Its full and delta CRLs leave the extension out.
TEST_F(CrlBuilderTest, ARootsCrlsCarryNoIdp) {
  auto builder = CrlBuilder::Create(root_.certificate.get(), CrlUrl(settings_, "root"));
  ASSERT_TRUE(builder.ok()) << builder.status();
  ASSERT_TRUE((*builder)->Add(ca_.serial, now_, kKeyCompromise).ok());
  auto full = (*builder)->BuildFull(1, now_, now_ + absl::Hours(24), *root_key_);
  ASSERT_TRUE(full.ok()) << full.status();
  auto delta = (*builder)->BuildDelta(2, 1, now_, now_ + absl::Hours(1), *root_key_);
  ASSERT_TRUE(delta.ok()) << delta.status();
  for (const BuiltCrl* built : {&*full, &*delta}) {
    X509CrlPtr crl = ParseCrl(*built->der);
    ASSERT_TRUE(crl);
    EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(root_.certificate.get())), 1);
    EXPECT_EQ(X509_CRL_get_ext_by_NID(crl.get(), NID_issuing_distribution_point, -1), -1);
  }
  X509CrlPtr crl = ParseCrl(*full->der);
  EXPECT_EQ(FreshestUrlOf(crl.get()), "http://keyline.test:8080/crl/root-delta.crl");
  EXPECT_EQ(X509_CRL_get_ext_count(crl.get()), 3);
}

TEST_F(CrlBuilderTest, EmptyCrlLeavesOutRevokedCertificates) {
  const BuiltCrl built = Full(1);
  EXPECT_EQ(built.entries, 0u);
  X509CrlPtr crl = ParseCrl(*built.der);
  ASSERT_TRUE(crl);
  ExpectVerifies(crl.get());
  EXPECT_EQ(EntryCount(crl.get()), 0);
  // RFC 5280 5.1.2.6: absent, not an empty SEQUENCE. An empty one would follow nextUpdate.
  const std::string next_update =
      std::string("\x17\x0d") +
      absl::FormatTime("%y%m%d%H%M%SZ", now_ + absl::Hours(24), absl::UTCTimeZone());
  const size_t at = built.der->find(next_update);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(static_cast<uint8_t>((*built.der)[at + next_update.size()]), 0xa0);  // extensions
}

TEST_F(CrlBuilderTest, AddingASerialTwiceChangesNothing) {
  Revoke("\x05\x06", kKeyCompromise);
  auto again = builder_->Add("\x05\x06", now_, kSuperseded);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  // Leading zero octets name the same serial.
  auto padded = builder_->Add(std::string("\x00\x05\x06", 3), now_, 0);
  ASSERT_TRUE(padded.ok());
  EXPECT_FALSE(*padded);
  EXPECT_EQ(builder_->size(), 1u);
  X509CrlPtr crl = ParseCrl(*Full(1).der);
  EXPECT_EQ(SerialsOf(crl.get()).size(), 1u);
  EXPECT_EQ(ReasonOf(EntryFor(crl.get(), "\x05\x06")), kKeyCompromise);  // the first one stays
}

TEST_F(CrlBuilderTest, RebuildAfterOneMoreAddAppendsIt) {
  for (uint32_t i = 1; i <= 100; ++i) Revoke(Serial(i), kCessationOfOperation);
  const BuiltCrl first = Full(1);
  Revoke(Serial(0xabcdef));
  const BuiltCrl second = Full(2);
  EXPECT_EQ(first.entries, 100u);
  EXPECT_EQ(second.entries, 101u);
  X509CrlPtr crl = ParseCrl(*second.der);
  ASSERT_TRUE(crl);
  ExpectVerifies(crl.get());
  const std::vector<std::string> serials = SerialsOf(crl.get());
  ASSERT_EQ(serials.size(), 101u);
  EXPECT_EQ(serials.front(), "\x01");
  EXPECT_EQ(serials.back(), "\xab\xcd\xef");
  // The stored entries are copied as they are: the old CRL's entry bytes reappear unchanged.
  X509CrlPtr old_crl = ParseCrl(*first.der);
  const std::string old_entries = EntriesDer(old_crl.get());
  EXPECT_GT(old_entries.size(), 100u * 20);
  EXPECT_NE(second.der->find(old_entries), std::string::npos);
}

TEST_F(CrlBuilderTest, DeltaListsOnlyEntriesAddedSinceItsBase) {
  Revoke("\x0a");
  const BuiltCrl base = Full(1);
  Revoke("\x0b", kKeyCompromise);
  const BuiltCrl second_full = Full(2);
  Revoke("\x0c");

  const BuiltCrl since_first = Delta(3, 1);
  EXPECT_EQ(since_first.base_crl_number, 1u);
  X509CrlPtr delta = ParseCrl(*since_first.der);
  ASSERT_TRUE(delta);
  ExpectVerifies(delta.get());
  EXPECT_EQ(SerialsOf(delta.get()), (std::vector<std::string>{"\x0b", "\x0c"}));
  EXPECT_EQ(ReasonOf(EntryFor(delta.get(), "\x0b")), kKeyCompromise);  // same encoding
  int critical = -1;
  EXPECT_EQ(IntegerExtension(delta.get(), NID_delta_crl, &critical), 1);
  EXPECT_EQ(critical, 1);  // RFC 5280 5.2.4
  EXPECT_EQ(IntegerExtension(delta.get(), NID_crl_number), 3);
  // Same scope as the base (RFC 5280 5.2.4): an identical issuingDistributionPoint; and no
  // freshestCRL in a delta (5.2.6).
  X509CrlPtr full = ParseCrl(*base.der);
  EXPECT_EQ(ExtensionValueOf(delta.get(), NID_issuing_distribution_point),
            ExtensionValueOf(full.get(), NID_issuing_distribution_point));
  EXPECT_EQ(X509_CRL_get_ext_by_NID(delta.get(), NID_freshest_crl, -1), -1);
  EXPECT_EQ(X509_CRL_get_ext_by_NID(delta.get(), NID_authority_key_identifier, -1) >= 0, true);

  X509CrlPtr since_second = ParseCrl(*Delta(3, 2).der);
  EXPECT_EQ(SerialsOf(since_second.get()), (std::vector<std::string>{"\x0c"}));
  EXPECT_EQ(second_full.entries, 2u);
}

TEST_F(CrlBuilderTest, TheDeltaIssuedWithAFullCrlSharesItsNumberAndItsEntries) {
  Revoke("\x0a");
  Full(4);
  Revoke("\x0b");
  const BuiltCrl full = Full(6);
  Revoke("\x0c");  // after the full CRL: neither it nor its delta lists this one

  auto built = builder_->BuildDeltaWithFull(6, 4, now_, now_ + absl::Hours(1), *ca_key_);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->crl_number, 6u);
  EXPECT_EQ(built->base_crl_number, 4u);
  X509CrlPtr delta = ParseCrl(*built->der);
  ASSERT_TRUE(delta);
  ExpectVerifies(delta.get());
  EXPECT_EQ(IntegerExtension(delta.get(), NID_crl_number), 6);
  EXPECT_EQ(IntegerExtension(delta.get(), NID_delta_crl), 4);
  // Full 4 + this delta = full 6 (RFC 5280 5.2.3).
  EXPECT_EQ(SerialsOf(delta.get()), (std::vector<std::string>{"\x0b"}));
  EXPECT_EQ(SerialsOf(ParseCrl(*full.der).get()), (std::vector<std::string>{"\x0a", "\x0b"}));
  EXPECT_EQ(builder_->LatestDelta().der, built->der);
  // A later delta on the same base takes what came after.
  EXPECT_EQ(SerialsOf(ParseCrl(*Delta(7, 6).der).get()), (std::vector<std::string>{"\x0c"}));
}

TEST_F(CrlBuilderTest, DeltaWithNothingNewIsEmpty) {
  Revoke("\x0a");
  Full(4);
  const BuiltCrl delta = Delta(5, 4);
  EXPECT_EQ(delta.entries, 0u);
  X509CrlPtr crl = ParseCrl(*delta.der);
  ASSERT_TRUE(crl);
  ExpectVerifies(crl.get());
  EXPECT_EQ(EntryCount(crl.get()), 0);
}

TEST_F(CrlBuilderTest, P384CaSignsWithSha384) {
  auto key = testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
  const TestCertificate ca = Issue(
      IntermediateCaTemplate(Context(key->public_key(), "root"), Profile::kOperatorCa, "ops"),
      root_.certificate.get(), *root_key_);
  auto builder = CrlBuilder::Create(ca.certificate.get(), CrlUrl(settings_, "operators"));
  ASSERT_TRUE(builder.ok()) << builder.status();
  ASSERT_TRUE((*builder)->Add("\x01\x02", now_, kKeyCompromise).ok());
  auto built = (*builder)->BuildFull(1, now_, now_ + absl::Hours(1), *key);
  ASSERT_TRUE(built.ok()) << built.status();
  X509CrlPtr crl = ParseCrl(*built->der);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_get_signature_nid(crl.get()), NID_ecdsa_with_SHA384);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca.certificate.get())), 1);
}

TEST_F(CrlBuilderTest, TimesFrom2050AreGeneralizedTime) {
  const absl::Time later = absl::FromCivil(absl::CivilSecond(2051, 3, 4, 5, 6, 7),
                                           absl::UTCTimeZone());
  Revoke("\x01");
  auto built = builder_->BuildFull(1, later, later + absl::Hours(1), *ca_key_);
  ASSERT_TRUE(built.ok());
  X509CrlPtr crl = ParseCrl(*built->der);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_get0_lastUpdate(crl.get())->type, V_ASN1_GENERALIZEDTIME);
  ExpectVerifies(crl.get());
}

TEST_F(CrlBuilderTest, AddBulkStoresEverythingAndSkipsDuplicates) {
  std::vector<std::string> serials;
  for (uint32_t i = 1; i <= 1000; ++i) serials.push_back(Serial(i * 7919));
  std::vector<RevokedEntry> entries;
  for (const std::string& serial : serials) {
    entries.push_back(RevokedEntry{serial, now_, kSuperseded, std::nullopt});
  }
  entries.push_back(RevokedEntry{serials[3], now_, kKeyCompromise, std::nullopt});
  builder_->Reserve(entries.size());
  auto stored = builder_->AddBulk(entries);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, 1000u);
  X509CrlPtr crl = ParseCrl(*Full(1).der);
  ASSERT_TRUE(crl);
  ExpectVerifies(crl.get());
  EXPECT_EQ(SerialsOf(crl.get()).size(), 1000u);
  EXPECT_EQ(ReasonOf(EntryFor(crl.get(), serials[3])), kSuperseded);
}

TEST_F(CrlBuilderTest, LatestKeepsTheHighestNumberedSnapshot) {
  EXPECT_EQ(builder_->LatestFull().der, nullptr);
  EXPECT_EQ(builder_->LatestDelta().der, nullptr);
  const BuiltCrl five = Full(5);
  const std::shared_ptr<const std::string> held = builder_->LatestFull().der;
  EXPECT_EQ(held, five.der);
  Revoke("\x01");
  Full(3);  // an older number does not replace the published one
  EXPECT_EQ(builder_->LatestFull().der, five.der);
  const BuiltCrl six = Full(6);
  EXPECT_EQ(builder_->LatestFull().crl_number, 6u);
  EXPECT_EQ(builder_->LatestFull().entries, 1u);
  EXPECT_EQ(*held, *five.der);  // a snapshot handed out never changes
  const BuiltCrl delta = Delta(7, 5);
  EXPECT_EQ(builder_->LatestDelta().der, delta.der);
  EXPECT_EQ(builder_->LatestDelta().base_crl_number, 5u);
  EXPECT_NE(six.der, nullptr);
}

TEST_F(CrlBuilderTest, AddsDuringBuildsLandInTheNextCrl) {
  std::atomic<bool> done{false};
  std::thread adder([&] {
    for (uint32_t i = 1; i <= 20000; ++i) {
      EXPECT_TRUE(builder_->Add(Serial(i), now_, kKeyCompromise).ok());
    }
    done = true;
  });
  uint64_t number = 1;
  size_t previous = 0;
  while (!done || number < 3) {
    const BuiltCrl built = Full(number++);
    X509CrlPtr crl = ParseCrl(*built.der);
    ASSERT_TRUE(crl);
    ExpectVerifies(crl.get());
    const std::vector<std::string> serials = SerialsOf(crl.get());
    ASSERT_EQ(serials.size(), built.entries);
    EXPECT_GE(built.entries, previous);
    // Insertion order: the first n serials added, whatever n was at the snapshot.
    if (!serials.empty()) {
      EXPECT_EQ(serials.back(), Trimmed(Serial(static_cast<uint32_t>(serials.size()))));
    }
    previous = built.entries;
  }
  adder.join();
  EXPECT_EQ(Full(number).entries, 20000u);
}

}  // namespace
}  // namespace keyline::ca
