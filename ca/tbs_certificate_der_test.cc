// BuildCertificate writes the TBSCertificate itself (ca/tbs_certificate_der.h). Here every profile,
// several key types and the edge cases of names, times and serials are built both ways, and the
// TBSCertificate must equal the one OpenSSL's own X509 encoding makes from the same template
// (ca/testing/openssl_certificate_builder.h). Signatures differ (ECDSA is randomised), so the
// signed certificates are compared from the TBS on, and each is checked to verify.
#include "ca/tbs_certificate_der.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "ca/testing/openssl_certificate_builder.h"
#include "ca/testing/software_signing_key.h"

namespace keyline::ca {
namespace {

using testing::SoftwareSigningKey;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);  // 2026-09-21

// The first element of the outer SEQUENCE of a certificate: its TBSCertificate TLV.
std::string TbsOf(const std::string& certificate) {
  auto length_at = [&](size_t offset, size_t* header) -> size_t {
    const auto first = static_cast<unsigned char>(certificate.at(offset + 1));
    if (first < 0x80) {
      *header = 2;
      return first;
    }
    const size_t octets = first & 0x7f;
    size_t length = 0;
    for (size_t i = 0; i < octets; ++i) {
      length = (length << 8) | static_cast<unsigned char>(certificate.at(offset + 2 + i));
    }
    *header = 2 + octets;
    return length;
  };
  size_t outer_header = 0;
  length_at(0, &outer_header);
  size_t tbs_header = 0;
  const size_t tbs_length = length_at(outer_header, &tbs_header);
  return certificate.substr(outer_header, tbs_header + tbs_length);
}

class TbsCertificateDerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.public_base_url = "http://keyline.test:8080";
    settings_.organization = "Test Hospital";
    root_key_ = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
    const CertificateTemplate root = RootTemplate(Context(root_key_->public_key(), ""));
    root_ = ExpectSameBothWays(root, nullptr, *root_key_);
    ca_key_ = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    ca_ = ExpectSameBothWays(IntermediateCaTemplate(Context(ca_key_->public_key(), "root"),
                                                    Profile::kDeploymentCa, "default"),
                             Root(), *root_key_);
  }

  IssueContext Context(EVP_PKEY* key, std::string issuer) {
    infos_.push_back(*PublicKeyInfo::FromKey(key));
    return IssueContext{settings_, &infos_.back(), *GenerateSerial(), kNow, std::move(issuer)};
  }
  IssueContext LeafContext(SoftwareKeyType type = SoftwareKeyType::kEcP256) {
    keys_.push_back(*GenerateSoftwareKey(type));
    return Context(keys_.back().get(), "deployment/default");
  }
  X509* Root() { return root_.get(); }
  X509* Ca() { return ca_.get(); }

  // Builds `request` both ways; returns the new way's certificate (null if it failed).
  X509Ptr ExpectSameBothWays(const CertificateTemplate& request, const X509* issuer,
                             const hsm::SigningKey& key) {
    const absl::StatusOr<BuiltCertificate> ours = BuildCertificate(request, issuer, key);
    const absl::StatusOr<BuiltCertificate> openssl =
        testing::BuildCertificateWithOpenSsl(request, issuer, key);
    EXPECT_EQ(ours.ok(), openssl.ok()) << ours.status() << " / " << openssl.status();
    if (!ours.ok() || !openssl.ok()) return nullptr;
    EXPECT_EQ(TbsOf(ours->der), TbsOf(openssl->der)) << ProfileName(request.profile);
    EXPECT_EQ(ours->not_before, openssl->not_before);
    EXPECT_EQ(ours->not_after, openssl->not_after);
    absl::StatusOr<X509Ptr> parsed = ParseCertificateDer(ours->der);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    if (!parsed.ok()) return nullptr;
    // The signature over our TBS verifies with the issuer's key.
    EXPECT_EQ(X509_verify(parsed->get(), key.public_key()), 1) << ProfileName(request.profile);
    return *std::move(parsed);
  }

  X509Ptr ExpectSameLeaf(const CertificateTemplate& request) {
    return ExpectSameBothWays(request, Ca(), *ca_key_);
  }

  ProfileSettings settings_;
  std::unique_ptr<SoftwareSigningKey> root_key_;
  std::unique_ptr<SoftwareSigningKey> ca_key_;
  X509Ptr root_;
  X509Ptr ca_;
  std::deque<PublicKeyInfo> infos_;
  std::vector<EvpPkeyPtr> keys_;
};

TEST_F(TbsCertificateDerTest, EveryProfileEncodesAsOpenSslWould) {
  ASSERT_NE(Root(), nullptr);
  ASSERT_NE(Ca(), nullptr);
  for (Profile profile : {Profile::kOperatorCa, Profile::kManufacturerCa}) {
    auto key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    EXPECT_NE(ExpectSameBothWays(
                  IntermediateCaTemplate(Context(key->public_key(), "root"), profile, "line-1"),
                  Root(), *root_key_),
              nullptr);
  }
  for (OperatorRole role : {OperatorRole::kAdmin, OperatorRole::kFactory, OperatorRole::kGateway}) {
    EXPECT_NE(ExpectSameLeaf(OperatorTemplate(LeafContext(), role, "line-3")), nullptr);
  }
  EXPECT_NE(ExpectSameLeaf(DeviceTemplate(LeafContext(), "default", "SN-000123")), nullptr);
  EXPECT_NE(ExpectSameLeaf(ServerTemplate(LeafContext(), {"keyline.test", "localhost"},
                                          {"127.0.0.1", "::1", "10.1.2.3"})),
            nullptr);
  EXPECT_NE(ExpectSameLeaf(OcspSignerTemplate(LeafContext(), "deployment/default")), nullptr);
  EXPECT_NE(ExpectSameLeaf(AttestationTemplate(LeafContext(), "SN-9", "TOx-Sensor rev. B")),
            nullptr);
  EXPECT_NE(ExpectSameLeaf(AttestationTemplate(LeafContext(), "SN-10", "")), nullptr);
  EXPECT_NE(ExpectSameLeaf(AuditSignerTemplate(LeafContext())), nullptr);
}

TEST_F(TbsCertificateDerTest, EveryKeyTypeEncodesAsOpenSslWould) {
  for (SoftwareKeyType type : {SoftwareKeyType::kEcP256, SoftwareKeyType::kEcP384,
                               SoftwareKeyType::kEd25519, SoftwareKeyType::kRsa2048}) {
    EXPECT_NE(ExpectSameLeaf(DeviceTemplate(LeafContext(type), "default", "SN-1")), nullptr);
  }
}

TEST_F(TbsCertificateDerTest, NamesTimesAndSerialsAtTheirEdges) {
  CertificateTemplate request = DeviceTemplate(LeafContext(), "default", "SN-1");
  // Non-ASCII UTF-8, exactly 64 characters (and more octets), an OU.
  request.subject.common_name = "Gerät-Ω-" + std::string(56, 'x');
  request.subject.organizational_unit = "Station Nord, Étage 3";
  request.subject.serial_number = "A-Z a-z 0-9 '()+,-./:=?";
  EXPECT_NE(ExpectSameLeaf(request), nullptr);

  // Serials: the top bit set (a sign octet is added), and one octet.
  request.serial = std::string("\xff\x01\x02\x03\x04\x05\x06\x07", 8);
  EXPECT_NE(ExpectSameLeaf(request), nullptr);
  request.serial = std::string("\x01", 1);
  EXPECT_NE(ExpectSameLeaf(request), nullptr);

  // GeneralizedTime from 2050 on; a notAfter past the issuer's is clamped to it.
  request.not_before =
      absl::FromCivil(absl::CivilSecond(2049, 12, 31, 23, 59, 59), absl::UTCTimeZone());
  request.not_after = absl::FromCivil(absl::CivilSecond(2050, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  auto key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  CertificateTemplate long_lived_ca =
      IntermediateCaTemplate(Context(key->public_key(), "root"), Profile::kDeploymentCa, "long");
  long_lived_ca.not_after = absl::FromUnixSeconds(4102444800 + 86400 * 400);  // 2071
  X509Ptr long_ca = ExpectSameBothWays(long_lived_ca, Root(), *root_key_);
  ASSERT_NE(long_ca, nullptr);
  EXPECT_NE(ExpectSameBothWays(request, long_ca.get(), *key), nullptr);
  request.not_after = absl::FromUnixSeconds(4102444800 + 86400 * 800);  // past the issuer
  EXPECT_NE(ExpectSameBothWays(request, long_ca.get(), *key), nullptr);
}

TEST_F(TbsCertificateDerTest, NamesOpenSslRefusesAreRefused) {
  CertificateTemplate request = DeviceTemplate(LeafContext(), "default", "SN-1");
  request.subject.common_name = std::string(65, 'x');
  EXPECT_EQ(BuildCertificate(request, Ca(), *ca_key_).status().code(), absl::StatusCode::kInternal);
  ExpectSameLeaf(request);  // both refuse

  request.subject.common_name = "bad \xc3\x28 utf-8";
  EXPECT_EQ(BuildCertificate(request, Ca(), *ca_key_).status().code(), absl::StatusCode::kInternal);
  ExpectSameLeaf(request);

  request.subject.common_name = "SN-1";
  request.subject.serial_number = "SN_1*";  // outside PrintableString
  EXPECT_EQ(BuildCertificate(request, Ca(), *ca_key_).status().code(), absl::StatusCode::kInternal);
  ExpectSameLeaf(request);

  CertificateTemplate server = ServerTemplate(LeafContext(), {"keyline.test"}, {"10.0.0.300"});
  const absl::Status bad_ip = BuildCertificate(server, Ca(), *ca_key_).status();
  EXPECT_EQ(bad_ip.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_ip.message().find("10.0.0.300"), std::string::npos) << bad_ip;
  ExpectSameLeaf(server);
}

}  // namespace
}  // namespace keyline::ca
