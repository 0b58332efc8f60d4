#include "ca/certificate_builder.h"

#include <openssl/x509v3.h>

#include <deque>
#include <set>

#include <gtest/gtest.h>

#include "ca/certificate_der.h"
#include "ca/chain_verifier.h"
#include "ca/csr_policy.h"
#include "ca/keyline_oids.h"
#include "ca/profiles.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "ca/testing/software_signing_key.h"

namespace keyline::ca {
namespace {

using testing::SoftwareSigningKey;

const absl::Time kNow = absl::FromUnixSeconds(1790000000);  // 2026-09-21

struct Issued {
  std::string der;
  X509Ptr certificate;
};

class CertificateBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.public_base_url = "http://keyline.test:8080";
    settings_.organization = "Test Hospital";
    root_key_ = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
    root_ = Build(RootTemplate(Context(root_key_->public_key(), "")), nullptr, *root_key_);
    ca_key_ = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    deployment_ca_ = Build(IntermediateCaTemplate(Context(ca_key_->public_key(), "root"),
                                                  Profile::kDeploymentCa, "default"),
                           root_.certificate.get(), *root_key_);
    leaf_key_ = *GenerateSoftwareKey(SoftwareKeyType::kEcP256);
  }

  // The context for a key; its PublicKeyInfo lives as long as the test.
  IssueContext Context(EVP_PKEY* key, std::string issuer) {
    infos_.push_back(*PublicKeyInfo::FromKey(key));
    return IssueContext{settings_, &infos_.back(), *GenerateSerial(), kNow, std::move(issuer)};
  }
  IssueContext Context(const PublicKeyInfo* key, std::string issuer) {
    return IssueContext{settings_, key, *GenerateSerial(), kNow, std::move(issuer)};
  }

  static Issued Build(const CertificateTemplate& request, const X509* issuer,
                      const hsm::SigningKey& key) {
    auto built = BuildCertificate(request, issuer, key);
    EXPECT_TRUE(built.ok()) << built.status();
    if (!built.ok()) return {};
    auto certificate = ParseCertificateDer(built->der);
    EXPECT_TRUE(certificate.ok());
    EXPECT_EQ(built->not_before, NotBeforeOf(certificate->get()));
    EXPECT_EQ(built->not_after, NotAfterOf(certificate->get()));
    return Issued{built->der, *std::move(certificate)};
  }

  Issued IssueLeaf(const CertificateTemplate& request) {
    return Build(request, deployment_ca_.certificate.get(), *ca_key_);
  }

  ProfileSettings settings_;
  std::unique_ptr<SoftwareSigningKey> root_key_;
  std::unique_ptr<SoftwareSigningKey> ca_key_;
  Issued root_;
  Issued deployment_ca_;
  EvpPkeyPtr leaf_key_;
  std::deque<PublicKeyInfo> infos_;
};

std::set<int> ExtensionNids(const X509* certificate) {
  std::set<int> nids;
  for (int i = 0; i < X509_get_ext_count(certificate); ++i) {
    nids.insert(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(certificate, i))));
  }
  return nids;
}

bool IsCritical(const X509* certificate, int nid) {
  const int index = X509_get_ext_by_NID(certificate, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(certificate, index)) == 1;
}

struct BasicConstraintsView {
  bool ca;
  long pathlen;  // -1 when absent
};

BasicConstraintsView BasicConstraintsOf(const X509* certificate) {
  BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(certificate, NID_basic_constraints, nullptr, nullptr)));
  EXPECT_TRUE(constraints);
  if (!constraints) return {false, -1};
  return {constraints->ca != 0,
          constraints->pathlen ? ASN1_INTEGER_get(constraints->pathlen) : -1};
}

uint32_t KeyUsageOf(X509* certificate) { return X509_get_key_usage(certificate); }

std::set<int> ExtendedKeyUsageOf(const X509* certificate) {
  ExtendedKeyUsagePtr usage(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(certificate, NID_ext_key_usage, nullptr, nullptr)));
  std::set<int> purposes;
  if (!usage) return purposes;
  for (int i = 0; i < sk_ASN1_OBJECT_num(usage.get()); ++i) {
    purposes.insert(OBJ_obj2nid(sk_ASN1_OBJECT_value(usage.get(), i)));
  }
  return purposes;
}

std::vector<std::string> UrisOf(const X509* certificate, int type = GEN_URI) {
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> values;
  if (!names) return values;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != type) continue;
    const ASN1_STRING* text = name->d.ia5;
    values.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                        static_cast<size_t>(ASN1_STRING_length(text)));
  }
  return values;
}

std::string CrlUrlOf(const X509* certificate) {
  OpenSslPtr<CRL_DIST_POINTS, CRL_DIST_POINTS_free> points(static_cast<CRL_DIST_POINTS*>(
      X509_get_ext_d2i(certificate, NID_crl_distribution_points, nullptr, nullptr)));
  if (!points || sk_DIST_POINT_num(points.get()) != 1) return "";
  const DIST_POINT* point = sk_DIST_POINT_value(points.get(), 0);
  const GENERAL_NAME* name = sk_GENERAL_NAME_value(point->distpoint->name.fullname, 0);
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.ia5)),
                     static_cast<size_t>(ASN1_STRING_length(name->d.ia5)));
}

std::string OcspUrlOf(X509* certificate) {
  STACK_OF(OPENSSL_STRING)* urls = X509_get1_ocsp(certificate);
  std::string url = sk_OPENSSL_STRING_num(urls) == 1 ? sk_OPENSSL_STRING_value(urls, 0) : "";
  X509_email_free(urls);
  return url;
}

void ExpectKeyIdentifiers(X509* certificate, X509* issuer) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ASSERT_EQ(X509_pubkey_digest(certificate, EVP_sha1(), digest, &length), 1);
  EXPECT_EQ(SubjectKeyIdOf(certificate),
            std::string(reinterpret_cast<char*>(digest), length));
  EXPECT_FALSE(IsCritical(certificate, NID_subject_key_identifier));
  if (issuer == nullptr) return;
  const ASN1_OCTET_STRING* authority_key_id = X509_get0_authority_key_id(certificate);
  ASSERT_NE(authority_key_id, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(authority_key_id)),
                        static_cast<size_t>(ASN1_STRING_length(authority_key_id))),
            SubjectKeyIdOf(issuer));
}

TEST_F(CertificateBuilderTest, RootProfile) {
  X509* root = root_.certificate.get();
  EXPECT_EQ(ExtensionNids(root), (std::set<int>{NID_basic_constraints, NID_key_usage,
                                                NID_subject_key_identifier}));
  EXPECT_TRUE(IsCritical(root, NID_basic_constraints));
  const auto constraints = BasicConstraintsOf(root);
  EXPECT_TRUE(constraints.ca);
  EXPECT_EQ(constraints.pathlen, -1);
  EXPECT_TRUE(IsCritical(root, NID_key_usage));
  EXPECT_EQ(KeyUsageOf(root), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  ExpectKeyIdentifiers(root, nullptr);
  EXPECT_EQ(X509_check_issued(root, root), X509_V_OK);
  EXPECT_EQ(X509_get_signature_nid(root), NID_ecdsa_with_SHA384);
  EXPECT_EQ(X509_get_version(root), X509_VERSION_3);
}

TEST_F(CertificateBuilderTest, IntermediateCaProfiles) {
  for (Profile profile : {Profile::kOperatorCa, Profile::kDeploymentCa, Profile::kManufacturerCa}) {
    auto key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
    Issued ca = Build(IntermediateCaTemplate(Context(key->public_key(), "root"), profile, "x"),
                      root_.certificate.get(), *root_key_);
    X509* certificate = ca.certificate.get();
    SCOPED_TRACE(std::string(ProfileName(profile)));
    EXPECT_EQ(ExtensionNids(certificate),
              (std::set<int>{NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
                             NID_authority_key_identifier, NID_crl_distribution_points,
                             NID_info_access}));
    EXPECT_TRUE(IsCritical(certificate, NID_basic_constraints));
    const auto constraints = BasicConstraintsOf(certificate);
    EXPECT_TRUE(constraints.ca);
    EXPECT_EQ(constraints.pathlen, 0);
    EXPECT_TRUE(IsCritical(certificate, NID_key_usage));
    // The manufacturer CA also signs ownership vouchers.
    const uint32_t expected_usage =
        KU_KEY_CERT_SIGN | KU_CRL_SIGN |
        (profile == Profile::kManufacturerCa ? KU_DIGITAL_SIGNATURE : 0);
    EXPECT_EQ(KeyUsageOf(certificate), expected_usage);
    ExpectKeyIdentifiers(certificate, root_.certificate.get());
    EXPECT_EQ(CrlUrlOf(certificate), "http://keyline.test:8080/crl/root.crl");
    EXPECT_EQ(OcspUrlOf(certificate), "http://keyline.test:8080/ocsp");
    EXPECT_EQ(X509_get_signature_nid(certificate), NID_ecdsa_with_SHA384);
    EXPECT_TRUE(VerifyCertificateChain(ca.der, {}, root_.der).ok());
  }
}

TEST_F(CertificateBuilderTest, OperatorProfile) {
  Issued issued = IssueLeaf(
      OperatorTemplate(Context(leaf_key_.get(), "deployment/default"), OperatorRole::kFactory,
                       "line-3"));
  X509* certificate = issued.certificate.get();
  EXPECT_EQ(ExtensionNids(certificate),
            (std::set<int>{NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                           NID_subject_key_identifier, NID_authority_key_identifier,
                           NID_subject_alt_name, NID_crl_distribution_points, NID_info_access}));
  EXPECT_TRUE(IsCritical(certificate, NID_basic_constraints));
  EXPECT_FALSE(BasicConstraintsOf(certificate).ca);
  EXPECT_TRUE(IsCritical(certificate, NID_key_usage));
  EXPECT_EQ(KeyUsageOf(certificate), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{NID_client_auth});
  EXPECT_EQ(UrisOf(certificate), std::vector<std::string>{"urn:keyline:role:factory:line-3"});
  EXPECT_TRUE(UrisOf(certificate, GEN_DNS).empty());
  ExpectKeyIdentifiers(certificate, deployment_ca_.certificate.get());
  EXPECT_EQ(CrlUrlOf(certificate), "http://keyline.test:8080/crl/deployment-default.crl");
  EXPECT_EQ(OcspUrlOf(certificate), "http://keyline.test:8080/ocsp");
  EXPECT_EQ(X509_get_signature_nid(certificate), NID_ecdsa_with_SHA256);
  EXPECT_EQ(NotAfterOf(certificate) - NotBeforeOf(certificate),
            settings_.operator_validity + settings_.backdate);
  EXPECT_TRUE(VerifyCertificateChain(issued.der, {deployment_ca_.der}, root_.der,
                                     {.purpose = X509_PURPOSE_SSL_CLIENT, .at = kNow})
                  .ok());
  EXPECT_FALSE(VerifyCertificateChain(issued.der, {deployment_ca_.der}, root_.der,
                                      {.purpose = X509_PURPOSE_SSL_SERVER, .at = kNow})
                   .ok());
}

TEST_F(CertificateBuilderTest, DeviceProfile) {
  Issued issued = IssueLeaf(
      DeviceTemplate(Context(leaf_key_.get(), "deployment/default"), "default", "SN-0001"));
  X509* certificate = issued.certificate.get();
  EXPECT_EQ(ExtensionNids(certificate),
            (std::set<int>{NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                           NID_subject_key_identifier, NID_authority_key_identifier,
                           NID_subject_alt_name, NID_crl_distribution_points, NID_info_access}));
  EXPECT_FALSE(BasicConstraintsOf(certificate).ca);
  EXPECT_EQ(KeyUsageOf(certificate), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{NID_client_auth});
  EXPECT_EQ(UrisOf(certificate), std::vector<std::string>{"urn:keyline:default:device:SN-0001"});
  EXPECT_EQ(NotAfterOf(certificate) - NotBeforeOf(certificate),
            absl::Hours(24 * 30) + settings_.backdate);
  EXPECT_TRUE(VerifyCertificateChain(issued.der, {deployment_ca_.der}, root_.der,
                                     {.purpose = X509_PURPOSE_SSL_CLIENT, .at = kNow})
                  .ok());
}

TEST_F(CertificateBuilderTest, ServerProfile) {
  Issued issued = IssueLeaf(ServerTemplate(Context(leaf_key_.get(), "operators"),
                                           {"localhost", "keyline.test"}, {"127.0.0.1"}));
  X509* certificate = issued.certificate.get();
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{NID_server_auth});
  EXPECT_EQ(UrisOf(certificate, GEN_DNS), (std::vector<std::string>{"localhost", "keyline.test"}));
  EXPECT_EQ(X509_check_ip_asc(certificate, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(certificate, "keyline.test", 0, 0, nullptr), 1);
  EXPECT_TRUE(VerifyCertificateChain(issued.der, {deployment_ca_.der}, root_.der,
                                     {.purpose = X509_PURPOSE_SSL_SERVER, .at = kNow})
                  .ok());
}

TEST_F(CertificateBuilderTest, OcspSignerProfile) {
  Issued issued = IssueLeaf(
      OcspSignerTemplate(Context(leaf_key_.get(), "deployment/default"), "deployment/default"));
  X509* certificate = issued.certificate.get();
  EXPECT_EQ(ExtensionNids(certificate),
            (std::set<int>{NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                           NID_subject_key_identifier, NID_authority_key_identifier,
                           NID_id_pkix_OCSP_noCheck}));
  EXPECT_FALSE(BasicConstraintsOf(certificate).ca);
  EXPECT_EQ(KeyUsageOf(certificate), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{NID_OCSP_sign});
}

TEST_F(CertificateBuilderTest, AttestationProfileIsForAttestationOnly) {
  Issued issued = IssueLeaf(AttestationTemplate(Context(leaf_key_.get(), "manufacturer/acme"),
                                                "SN-0042", "StO2-Sensor R2"));
  X509* certificate = issued.certificate.get();
  EXPECT_EQ(ExtensionNids(certificate),
            (std::set<int>{NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                           NID_subject_key_identifier, NID_authority_key_identifier,
                           NID_crl_distribution_points, NID_info_access, NID_certificate_policies,
                           HardwareModelNid()}));
  EXPECT_TRUE(IsCritical(certificate, NID_basic_constraints));
  EXPECT_FALSE(BasicConstraintsOf(certificate).ca);
  EXPECT_EQ(KeyUsageOf(certificate), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{AttestationKeyUsageNid()});

  char serial[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_serialNumber, serial,
                            sizeof(serial));
  EXPECT_STREQ(serial, "SN-0042");
  OpenSslPtr<CERTIFICATEPOLICIES, CERTIFICATEPOLICIES_free> policies(
      static_cast<CERTIFICATEPOLICIES*>(
          X509_get_ext_d2i(certificate, NID_certificate_policies, nullptr, nullptr)));
  ASSERT_TRUE(policies);
  ASSERT_EQ(sk_POLICYINFO_num(policies.get()), 1);
  EXPECT_EQ(OBJ_obj2nid(sk_POLICYINFO_value(policies.get(), 0)->policyid), AttestationPolicyNid());
  const int model_index = X509_get_ext_by_NID(certificate, HardwareModelNid(), -1);
  ASSERT_GE(model_index, 0);
  const ASN1_OCTET_STRING* model_der =
      X509_EXTENSION_get_data(X509_get_ext(certificate, model_index));
  const unsigned char* cursor = ASN1_STRING_get0_data(model_der);
  OpenSslPtr<ASN1_UTF8STRING, ASN1_UTF8STRING_free> model(
      d2i_ASN1_UTF8STRING(nullptr, &cursor, ASN1_STRING_length(model_der)));
  ASSERT_TRUE(model);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(model.get())),
                        static_cast<size_t>(ASN1_STRING_length(model.get()))),
            "StO2-Sensor R2");

  // Chains for attestation, but no TLS peer accepts it as a client certificate.
  EXPECT_TRUE(VerifyCertificateChain(issued.der, {deployment_ca_.der}, root_.der,
                                     {.purpose = X509_PURPOSE_ANY, .at = kNow})
                  .ok());
  EXPECT_FALSE(VerifyCertificateChain(issued.der, {deployment_ca_.der}, root_.der,
                                      {.purpose = X509_PURPOSE_SSL_CLIENT, .at = kNow})
                   .ok());
}

TEST_F(CertificateBuilderTest, AuditSignerProfile) {
  Issued issued = Build(AuditSignerTemplate(Context(leaf_key_.get(), "root")),
                        root_.certificate.get(), *root_key_);
  X509* certificate = issued.certificate.get();
  EXPECT_EQ(ExtensionNids(certificate),
            (std::set<int>{NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
                           NID_subject_key_identifier, NID_authority_key_identifier}));
  EXPECT_FALSE(BasicConstraintsOf(certificate).ca);
  EXPECT_EQ(KeyUsageOf(certificate), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{AuditSigningKeyUsageNid()});
}

TEST_F(CertificateBuilderTest, CsrSubjectAndRequestedExtensionsAreIgnored) {
  // A CSR asking for everything a malicious requester might want.
  X509ReqPtr request(X509_REQ_new());
  X509_REQ_set_pubkey(request.get(), leaf_key_.get());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(request.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("admin"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(request.get()), "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Evil"), -1, -1, 0);
  STACK_OF(X509_EXTENSION)* requested = sk_X509_EXTENSION_new_null();
  for (const auto& [nid, value] : std::vector<std::pair<int, const char*>>{
           {NID_basic_constraints, "critical,CA:TRUE"},
           {NID_key_usage, "critical,keyCertSign,cRLSign"},
           {NID_ext_key_usage, "serverAuth,codeSigning"},
           {NID_subject_alt_name, "DNS:evil.example,URI:urn:keyline:role:admin:mallory"}}) {
    sk_X509_EXTENSION_push(requested, X509V3_EXT_conf_nid(nullptr, nullptr, nid, value));
  }
  X509_REQ_add_extensions(request.get(), requested);
  sk_X509_EXTENSION_pop_free(requested, X509_EXTENSION_free);
  X509_REQ_sign(request.get(), leaf_key_.get(), EVP_sha256());
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  const std::string csr(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);

  auto accepted = ParseAndCheckCsr(csr);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  Issued issued = IssueLeaf(OperatorTemplate(
      Context(&accepted->public_key, "deployment/default"), OperatorRole::kFactory, "line-3"));
  X509* certificate = issued.certificate.get();
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof(subject));
  EXPECT_STREQ(subject, "/O=Test Hospital/OU=factory/CN=line-3");
  EXPECT_FALSE(BasicConstraintsOf(certificate).ca);
  EXPECT_EQ(KeyUsageOf(certificate), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(ExtendedKeyUsageOf(certificate), std::set<int>{NID_client_auth});
  EXPECT_EQ(UrisOf(certificate), std::vector<std::string>{"urn:keyline:role:factory:line-3"});
  EXPECT_TRUE(UrisOf(certificate, GEN_DNS).empty());
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(certificate), leaf_key_.get()), 1);
}

TEST_F(CertificateBuilderTest, NeverOutlivesItsIssuer) {
  CertificateTemplate request = DeviceTemplate(Context(leaf_key_.get(), "deployment/default"),
                                               "default", "SN-1");
  request.not_after = kNow + absl::Hours(24 * 365 * 50);
  Issued issued = IssueLeaf(request);
  EXPECT_EQ(NotAfterOf(issued.certificate.get()), NotAfterOf(deployment_ca_.certificate.get()));
}

TEST_F(CertificateBuilderTest, RejectsIncompleteTemplates) {
  CertificateTemplate request = DeviceTemplate(Context(leaf_key_.get(), "deployment/default"),
                                               "default", "SN-1");
  CertificateTemplate no_key = request;
  no_key.public_key = nullptr;
  CertificateTemplate no_serial = request;
  no_serial.serial.clear();
  CertificateTemplate no_name = request;
  no_name.subject.common_name.clear();
  CertificateTemplate backwards = request;
  backwards.not_after = backwards.not_before;
  for (const auto* bad : {&no_key, &no_serial, &no_name, &backwards}) {
    auto result = BuildCertificate(*bad, deployment_ca_.certificate.get(), *ca_key_);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  }
}

TEST_F(CertificateBuilderTest, SelfSignedNeedsItsOwnKey) {
  auto other = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
  auto result = BuildCertificate(RootTemplate(Context(root_key_->public_key(), "")), nullptr,
                                 *other);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CertificateBuilderTest, WrongIssuerDoesNotVerify) {
  auto other_root_key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP384);
  Issued other_root =
      Build(RootTemplate(Context(other_root_key->public_key(), "")), nullptr, *other_root_key);
  Issued issued = IssueLeaf(
      DeviceTemplate(Context(leaf_key_.get(), "deployment/default"), "default", "SN-1"));
  const auto status = VerifyCertificateChain(issued.der, {deployment_ca_.der}, other_root.der,
                                             {.purpose = std::nullopt, .at = kNow});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace keyline::ca
