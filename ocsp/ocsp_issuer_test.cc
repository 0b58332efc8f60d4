#include "ocsp/ocsp_issuer.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>

#include "ca/testing/software_signing_key.h"
#include "ocsp/testing/test_pki.h"

namespace keyline::ocsp {
namespace {

using testing::TestPki;

class OcspIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
  }

  static void ExpectInvalid(const absl::StatusOr<std::shared_ptr<const OcspIssuer>>& issuer,
                            std::string_view message_part) {
    ASSERT_FALSE(issuer.ok());
    EXPECT_EQ(issuer.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(issuer.status().message().find(std::string(message_part)), absl::string_view::npos)
        << issuer.status();
  }

  std::unique_ptr<TestPki> pki_;
};

TEST_F(OcspIssuerTest, HashesAreThoseOpenSslPutsInCertIds) {
  const OcspIssuer& issuer = *pki_->issuer();
  for (const auto& [md, hash] : {std::pair{EVP_sha1(), CertIdHash::kSha1},
                                 std::pair{EVP_sha256(), CertIdHash::kSha256}}) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    ASSERT_EQ(X509_NAME_digest(X509_get_subject_name(pki_->ca()), md, digest, &length), 1);
    EXPECT_EQ(issuer.name_hash(hash), std::string(reinterpret_cast<char*>(digest), length));
    ASSERT_EQ(X509_pubkey_digest(pki_->ca(), md, digest, &length), 1);
    EXPECT_EQ(issuer.key_hash(hash), std::string(reinterpret_cast<char*>(digest), length));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ASSERT_EQ(X509_pubkey_digest(pki_->signer(), EVP_sha1(), digest, &length), 1);
  EXPECT_EQ(issuer.responder_key_hash(), std::string(reinterpret_cast<char*>(digest), length));
  EXPECT_TRUE(issuer.name_hash(CertIdHash::kUnknown).empty());
  EXPECT_NE(issuer.ca_subject().find("CN="), std::string::npos);
  EXPECT_GT(issuer.signer_not_after(), absl::Now());
}

TEST_F(OcspIssuerTest, MatchesOnlyWhenBothHashesMatch) {
  const OcspIssuer& issuer = *pki_->issuer();
  CertId id{CertIdHash::kSha1, issuer.name_hash(CertIdHash::kSha1),
            issuer.key_hash(CertIdHash::kSha1), "\x01", ""};
  EXPECT_TRUE(issuer.Matches(id));
  CertId other_key = id;
  other_key.issuer_key_hash[0] ^= 1;
  EXPECT_FALSE(issuer.Matches(other_key));
  CertId other_name = id;
  other_name.issuer_name_hash[5] ^= 1;
  EXPECT_FALSE(issuer.Matches(other_name));
  CertId mixed = id;  // SHA-1 name hash with the SHA-256 key hash
  mixed.issuer_key_hash = issuer.key_hash(CertIdHash::kSha256);
  EXPECT_FALSE(issuer.Matches(mixed));
  CertId unknown = id;
  unknown.hash = CertIdHash::kUnknown;
  EXPECT_FALSE(issuer.Matches(unknown));
}

TEST_F(OcspIssuerTest, SameCaAcrossSignerRotationOnly) {
  auto rotated = pki_->NewSigner();
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_TRUE((*rotated)->SameCa(*pki_->issuer()));
  EXPECT_NE((*rotated)->responder_key_hash(), pki_->issuer()->responder_key_hash());
  auto other = TestPki::Create(hsm::KeyAlgorithm::kEcdsaP256, "default");
  ASSERT_TRUE(other.ok());
  // Same subject, different key: another CA.
  EXPECT_FALSE((*other)->issuer()->SameCa(*pki_->issuer()));
}

TEST_F(OcspIssuerTest, RefusesCertificatesThatDoNotParse) {
  ExpectInvalid(OcspIssuer::New("junk", pki_->signer_der(), pki_->signer_key()),
                "CA certificate is not DER");
  ExpectInvalid(OcspIssuer::New(pki_->ca_der(), pki_->signer_der() + "x", pki_->signer_key()),
                "signer certificate is not DER");
  ExpectInvalid(OcspIssuer::New(pki_->ca_der(), pki_->signer_der(), nullptr), "key missing");
}

TEST_F(OcspIssuerTest, RefusesANonCaIssuer) {
  auto leaf = pki_->IssueLeaf("sensor-1");
  ASSERT_TRUE(leaf.ok());
  ExpectInvalid(OcspIssuer::New(leaf->der, pki_->signer_der(), pki_->signer_key()),
                "not a CA");
}

TEST_F(OcspIssuerTest, RefusesASignerOfAnotherCa) {
  auto other = TestPki::Create(hsm::KeyAlgorithm::kEcdsaP256, "other");
  ASSERT_TRUE(other.ok());
  ExpectInvalid(OcspIssuer::New(pki_->ca_der(), (*other)->signer_der(), (*other)->signer_key()),
                "not issued by the CA");
  // The root issued the CA, but the CA is not the signer's issuer here either.
  ExpectInvalid(OcspIssuer::New(pki_->root_der(), pki_->signer_der(), pki_->signer_key()),
                "not issued by the CA");
}

TEST_F(OcspIssuerTest, RefusesASignerWithoutOcspSigning) {
  auto leaf = pki_->IssueLeaf("sensor-1");  // clientAuth only
  ASSERT_TRUE(leaf.ok());
  ExpectInvalid(OcspIssuer::New(pki_->ca_der(), leaf->der, pki_->signer_key()),
                "lacks id-kp-OCSPSigning");
}

TEST_F(OcspIssuerTest, RefusesAKeyThatIsNotTheSigners) {
  std::shared_ptr<const hsm::SigningKey> stranger =
      ca::testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  ExpectInvalid(OcspIssuer::New(pki_->ca_der(), pki_->signer_der(), stranger),
                "does not match the signer certificate");
}

}  // namespace
}  // namespace keyline::ocsp
