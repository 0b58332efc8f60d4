#include "ocsp/testing/test_pki.h"

#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/serial_number.h"
#include "ca/software_key.h"
#include "common/status_macros.h"

namespace keyline::ocsp::testing {
namespace {

using ca::testing::SoftwareSigningKey;

absl::StatusOr<std::unique_ptr<SoftwareSigningKey>> NewKey(hsm::KeyAlgorithm algorithm) {
  auto key = SoftwareSigningKey::Generate(algorithm);
  if (!key) return absl::InternalError("software key generation failed");
  return key;
}

}  // namespace

const ca::PublicKeyInfo* TestPki::Remember(ca::PublicKeyInfo info) {
  key_infos_.push_back(std::move(info));
  return &key_infos_.back();
}

absl::StatusOr<std::unique_ptr<TestPki>> TestPki::Create(hsm::KeyAlgorithm signer_algorithm,
                                                         std::string ca_label, absl::Time now) {
  std::unique_ptr<TestPki> pki(new TestPki());
  pki->settings_.public_base_url = "http://keyline.test:8080";
  pki->settings_.organization = "Keyline OCSP Test";
  pki->now_ = now;
  pki->ca_label_ = std::move(ca_label);

  KEYLINE_ASSIGN_OR_RETURN(pki->root_key_, NewKey(hsm::KeyAlgorithm::kEcdsaP384));
  KEYLINE_ASSIGN_OR_RETURN(auto root_info, ca::PublicKeyInfo::FromKey(pki->root_key_->public_key()));
  KEYLINE_ASSIGN_OR_RETURN(auto root_serial, ca::GenerateSerial());
  const ca::IssueContext root_context{pki->settings_, pki->Remember(std::move(root_info)),
                                      root_serial, now, ""};
  KEYLINE_ASSIGN_OR_RETURN(auto root,
                           ca::BuildCertificate(ca::RootTemplate(root_context), nullptr,
                                                *pki->root_key_));
  pki->root_der_ = root.der;
  KEYLINE_ASSIGN_OR_RETURN(pki->root_, ca::ParseCertificateDer(pki->root_der_));

  KEYLINE_ASSIGN_OR_RETURN(pki->ca_key_, NewKey(hsm::KeyAlgorithm::kEcdsaP256));
  KEYLINE_ASSIGN_OR_RETURN(auto ca_info, ca::PublicKeyInfo::FromKey(pki->ca_key_->public_key()));
  KEYLINE_ASSIGN_OR_RETURN(auto ca_serial, ca::GenerateSerial());
  const ca::IssueContext ca_context{pki->settings_, pki->Remember(std::move(ca_info)), ca_serial,
                                    now, "root"};
  KEYLINE_ASSIGN_OR_RETURN(
      auto deployment_ca,
      ca::BuildCertificate(
          ca::IntermediateCaTemplate(ca_context, ca::Profile::kDeploymentCa, pki->ca_label_),
          pki->root_.get(), *pki->root_key_));
  pki->ca_der_ = deployment_ca.der;
  KEYLINE_ASSIGN_OR_RETURN(pki->ca_, ca::ParseCertificateDer(pki->ca_der_));

  // The signer's key algorithm is the caller's; NewSigner uses the same.
  KEYLINE_ASSIGN_OR_RETURN(std::shared_ptr<SoftwareSigningKey> signer_key, NewKey(signer_algorithm));
  pki->signer_key_ = signer_key;
  KEYLINE_ASSIGN_OR_RETURN(auto issuer, pki->NewSigner());
  pki->issuer_ = issuer;
  return pki;
}

absl::StatusOr<std::shared_ptr<const OcspIssuer>> TestPki::NewSigner() {
  std::shared_ptr<const hsm::SigningKey> key = signer_key_;
  if (issuer_ != nullptr) {  // rotation: a fresh key of the same algorithm
    KEYLINE_ASSIGN_OR_RETURN(std::shared_ptr<SoftwareSigningKey> fresh,
                             NewKey(signer_key_->algorithm()));
    key = fresh;
  }
  KEYLINE_ASSIGN_OR_RETURN(auto info, ca::PublicKeyInfo::FromKey(key->public_key()));
  KEYLINE_ASSIGN_OR_RETURN(auto serial, ca::GenerateSerial());
  const ca::IssueContext context{settings_, Remember(std::move(info)), serial, now_,
                                 "deployment/" + ca_label_};
  KEYLINE_ASSIGN_OR_RETURN(
      auto signer, ca::BuildCertificate(ca::OcspSignerTemplate(context, "deployment/" + ca_label_),
                                        ca_.get(), *ca_key_));
  if (issuer_ == nullptr) {
    signer_der_ = signer.der;
    KEYLINE_ASSIGN_OR_RETURN(signer_, ca::ParseCertificateDer(signer_der_));
  }
  return OcspIssuer::New(ca_der_, signer.der, std::move(key));
}

absl::StatusOr<TestLeaf> TestPki::IssueLeaf(std::string device_serial) {
  KEYLINE_ASSIGN_OR_RETURN(auto key, ca::GenerateSoftwareKey(ca::SoftwareKeyType::kEcP256));
  KEYLINE_ASSIGN_OR_RETURN(auto info, ca::PublicKeyInfo::FromKey(key.get()));
  KEYLINE_ASSIGN_OR_RETURN(auto serial, ca::GenerateSerial());
  const ca::IssueContext context{settings_, Remember(std::move(info)), serial, now_,
                                 "deployment/" + ca_label_};
  KEYLINE_ASSIGN_OR_RETURN(
      auto built, ca::BuildCertificate(ca::DeviceTemplate(context, ca_label_, device_serial),
                                       ca_.get(), *ca_key_));
  TestLeaf leaf;
  leaf.der = built.der;
  leaf.pem = ca::DerToPem(built.der);
  leaf.serial = serial;
  KEYLINE_ASSIGN_OR_RETURN(leaf.certificate, ca::ParseCertificateDer(leaf.der));
  return leaf;
}

std::string TestPki::ca_pem() const { return ca::DerToPem(ca_der_); }

std::string TestPki::chain_pem() const { return ca::DerToPem(root_der_) + ca::DerToPem(ca_der_); }

}  // namespace keyline::ocsp::testing
