#include "provisioning/testing/test_pki.h"

#include "absl/time/clock.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_der.h"
#include "ca/public_key_info.h"
#include "ca/serial_number.h"

namespace keyline::provisioning::testing {

using ca::testing::SoftwareSigningKey;

TestPki::TestPki() {
  auto root_key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  auto info = *ca::PublicKeyInfo::FromKey(root_key->public_key());
  const ca::IssueContext context{settings, &info, *ca::GenerateSerial(), absl::Now(), ""};
  const std::string root_der =
      ca::BuildCertificate(ca::RootTemplate(context), nullptr, *root_key)->der;
  root = *ca::IssuingCa::Create("root", 1, {root_der}, std::move(root_key));
  operator_ca = Intermediate(ca::Profile::kOperatorCa, "operators", "");
  deployment_ca = Intermediate(ca::Profile::kDeploymentCa, "deployment/default", "default");
  manufacturer_ca = Intermediate(ca::Profile::kManufacturerCa, "manufacturer/keyline", "keyline");
}

std::unique_ptr<ca::IssuingCa> TestPki::Intermediate(ca::Profile profile, const std::string& name,
                                                     const std::string& label) {
  auto key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  auto info = *ca::PublicKeyInfo::FromKey(key->public_key());
  const ca::IssueContext context{settings, &info, *ca::GenerateSerial(), absl::Now(), "root"};
  const std::string der = root->Issue(ca::IntermediateCaTemplate(context, profile, label))->der;
  static int32_t next_id = 2;
  return *ca::IssuingCa::Create(name, next_id++, {der, root->certificate_der()}, std::move(key));
}

Leaf TestPki::Issue(const ca::IssuingCa& issuer,
                    const std::function<ca::CertificateTemplate(const ca::IssueContext&)>& make) {
  Leaf leaf;
  leaf.key = SoftwareSigningKey::Generate(hsm::KeyAlgorithm::kEcdsaP256);
  auto info = *ca::PublicKeyInfo::FromKey(leaf.key->public_key());
  const ca::IssueContext context{settings, &info, *ca::GenerateSerial(), absl::Now(),
                                 issuer.name()};
  leaf.der = issuer.Issue(make(context))->der;
  leaf.pem = ca::DerToPem(leaf.der);
  return leaf;
}

Leaf TestPki::Operator(ca::OperatorRole role, const std::string& name) {
  return Issue(*operator_ca, [&](const ca::IssueContext& context) {
    return ca::OperatorTemplate(context, role, name);
  });
}

Leaf TestPki::Device(const std::string& serial) {
  return Issue(*deployment_ca, [&](const ca::IssueContext& context) {
    return ca::DeviceTemplate(context, "default", serial);
  });
}

Leaf TestPki::Attestation(const std::string& serial, absl::Duration validity) {
  return Issue(*manufacturer_ca, [&](const ca::IssueContext& context) {
    ca::CertificateTemplate request = ca::AttestationTemplate(context, serial, "Test Sensor");
    request.not_after = absl::Now() + validity;
    return request;
  });
}

}  // namespace keyline::provisioning::testing
