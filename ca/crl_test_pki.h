// Test support for the CRL tests: a root, a deployment CA under it and device certificates, made
// with the real certificate builder and in-memory keys, plus readers of CRLs through OpenSSL.
#pragma once

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/crl_builder.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "ca/testing/software_signing_key.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

using X509CrlPtr = OpenSslPtr<X509_CRL, X509_CRL_free>;
using AuthorityKeyIdPtr = OpenSslPtr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using IssuingDistPointPtr = OpenSslPtr<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>;
using CrlDistPointsPtr = OpenSslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;
using Asn1EnumeratedPtr = OpenSslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;

struct TestCertificate {
  std::string der;
  X509Ptr certificate;
  std::string serial;  // big-endian magnitude
};

inline constexpr std::string_view kCaName = "deployment/default";

class CrlTestPki : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.public_base_url = "http://keyline.test:8080";
    settings_.organization = "Test Hospital";
    now_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
    root_key_ = testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
    root_ = Issue(RootTemplate(Context(root_key_->public_key(), "")), nullptr, *root_key_);
    ca_key_ = testing::SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    ca_ = Issue(IntermediateCaTemplate(Context(ca_key_->public_key(), "root"),
                                       Profile::kDeploymentCa, "default"),
                root_.certificate.get(), *root_key_);
  }

  IssueContext Context(EVP_PKEY* key, std::string issuer) {
    infos_.push_back(*PublicKeyInfo::FromKey(key));
    return IssueContext{settings_, &infos_.back(), *GenerateSerial(), now_, std::move(issuer)};
  }

  static TestCertificate Issue(const CertificateTemplate& request, const X509* issuer,
                               const hsm::SigningKey& key) {
    auto built = BuildCertificate(request, issuer, key);
    EXPECT_TRUE(built.ok()) << built.status();
    if (!built.ok()) return {};
    auto certificate = ParseCertificateDer(built->der);
    EXPECT_TRUE(certificate.ok());
    return TestCertificate{built->der, *std::move(certificate), request.serial};
  }

  // A device certificate from the deployment CA; its CDP is the CA's CRL URL.
  TestCertificate IssueLeaf(std::string_view device_serial) {
    keys_.push_back(*GenerateSoftwareKey(SoftwareKeyType::kEcP256));
    return Issue(DeviceTemplate(Context(keys_.back().get(), std::string(kCaName)), "default",
                                device_serial),
                 ca_.certificate.get(), *ca_key_);
  }

  std::string CrlUrlOfCa() const { return CrlUrl(settings_, kCaName); }

  std::unique_ptr<CrlBuilder> NewBuilder() {
    auto builder = CrlBuilder::Create(ca_.certificate.get(), CrlUrlOfCa());
    EXPECT_TRUE(builder.ok()) << builder.status();
    return builder.ok() ? *std::move(builder) : nullptr;
  }

  ProfileSettings settings_;
  absl::Time now_;
  std::unique_ptr<testing::SoftwareSigningKey> root_key_;
  std::unique_ptr<testing::SoftwareSigningKey> ca_key_;
  TestCertificate root_;
  TestCertificate ca_;
  std::deque<PublicKeyInfo> infos_;
  std::vector<EvpPkeyPtr> keys_;
};

// Parses a CRL; fails the test unless `der` is exactly one.
inline X509CrlPtr ParseCrl(std::string_view der) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509CrlPtr crl(d2i_X509_CRL(nullptr, &cursor, static_cast<long>(der.size())));
  EXPECT_TRUE(crl) << "d2i_X509_CRL failed";
  EXPECT_EQ(cursor, reinterpret_cast<const unsigned char*>(der.data() + der.size()));
  return crl;
}

// The serials of a CRL's entries as big-endian magnitudes, in order.
inline std::vector<std::string> SerialsOf(X509_CRL* crl) {
  std::vector<std::string> serials;
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl);
  for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
    const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    BigNumPtr number(ASN1_INTEGER_to_BN(serial, nullptr));
    std::string bytes(static_cast<size_t>(BN_num_bytes(number.get())), '\0');
    BN_bn2bin(number.get(), reinterpret_cast<unsigned char*>(bytes.data()));
    serials.push_back(bytes);
  }
  return serials;
}

// The entry for `serial`, or null.
inline X509_REVOKED* EntryFor(X509_CRL* crl, std::string_view serial) {
  Asn1IntegerPtr integer = SerialToAsn1Integer(serial);
  X509_REVOKED* entry = nullptr;
  return X509_CRL_get0_by_serial(crl, &entry, integer.get()) == 1 ? entry : nullptr;
}

// The reasonCode of an entry; -1 when absent.
inline long ReasonOf(X509_REVOKED* entry) {
  Asn1EnumeratedPtr reason(static_cast<ASN1_ENUMERATED*>(
      X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr)));
  return reason ? ASN1_ENUMERATED_get(reason.get()) : -1;
}

// An INTEGER-valued CRL extension (cRLNumber, deltaCRLIndicator); -1 when absent.
inline long IntegerExtension(X509_CRL* crl, int nid, int* critical = nullptr) {
  Asn1IntegerPtr value(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, nid, critical, nullptr)));
  return value ? ASN1_INTEGER_get(value.get()) : -1;
}

inline std::string UriOf(const DIST_POINT_NAME* name) {
  if (name == nullptr || name->type != 0 || sk_GENERAL_NAME_num(name->name.fullname) != 1) {
    return "";
  }
  const GENERAL_NAME* general = sk_GENERAL_NAME_value(name->name.fullname, 0);
  if (general->type != GEN_URI) return "";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(general->d.ia5)),
                     static_cast<size_t>(ASN1_STRING_length(general->d.ia5)));
}

// The issuingDistributionPoint's URL ("" when absent) and whether it is critical.
inline std::string IdpUrlOf(X509_CRL* crl, int* critical) {
  IssuingDistPointPtr idp(static_cast<ISSUING_DIST_POINT*>(
      X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, critical, nullptr)));
  return idp ? UriOf(idp->distpoint) : "";
}

inline std::string FreshestUrlOf(X509_CRL* crl) {
  CrlDistPointsPtr points(static_cast<CRL_DIST_POINTS*>(
      X509_CRL_get_ext_d2i(crl, NID_freshest_crl, nullptr, nullptr)));
  if (!points || sk_DIST_POINT_num(points.get()) != 1) return "";
  return UriOf(sk_DIST_POINT_value(points.get(), 0)->distpoint);
}

// The raw extnValue of a CRL extension ("" when absent).
inline std::string ExtensionValueOf(X509_CRL* crl, int nid) {
  const int index = X509_CRL_get_ext_by_NID(crl, nid, -1);
  if (index < 0) return "";
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_CRL_get_ext(crl, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

}  // namespace keyline::ca
