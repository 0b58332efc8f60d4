#include "ca/profiles.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/absl_compat.h"

namespace keyline::ca {
namespace {

CertificateTemplate Base(const IssueContext& context, Profile profile, absl::Duration validity) {
  CertificateTemplate request;
  request.profile = profile;
  request.subject.organization = context.settings.organization;
  request.public_key = context.subject_key;
  request.serial = context.serial;
  request.not_before = context.now - context.settings.backdate;
  request.not_after = context.now + validity;
  if (!context.issuer_name.empty()) {
    request.crl_url = CrlUrl(context.settings, context.issuer_name);
    request.ocsp_url = OcspUrl(context.settings);
  }
  return request;
}

std::string_view IntermediateTitle(Profile profile) {
  switch (profile) {
    case Profile::kOperatorCa:
      return "Operator CA";
    case Profile::kDeploymentCa:
      return "Deployment CA";
    case Profile::kManufacturerCa:
      return "Manufacturer CA";
    default:
      return "CA";
  }
}

}  // namespace

std::string CrlUrl(const ProfileSettings& settings, std::string_view ca_name) {
  return absl::StrCat(settings.public_base_url, "/crl/",
                      absl::StrReplaceAll(AsAbsl(ca_name), {{"/", "-"}}), ".crl");
}

std::string OcspUrl(const ProfileSettings& settings) {
  return absl::StrCat(settings.public_base_url, "/ocsp");
}

CertificateTemplate RootTemplate(const IssueContext& context) {
  CertificateTemplate request = Base(context, Profile::kRoot, context.settings.root_validity);
  request.subject.common_name = absl::StrCat(context.settings.organization, " Root CA");
  request.crl_url.clear();  // a trust anchor is not checked for revocation
  request.ocsp_url.clear();
  return request;
}

CertificateTemplate IntermediateCaTemplate(const IssueContext& context, Profile profile,
                                           std::string_view label) {
  CertificateTemplate request = Base(context, profile, context.settings.intermediate_validity);
  request.subject.common_name = absl::StrCat(context.settings.organization, " ",
                                             AsAbsl(IntermediateTitle(profile)));
  if (!label.empty()) absl::StrAppend(&request.subject.common_name, " ", AsAbsl(label));
  return request;
}

CertificateTemplate OperatorTemplate(const IssueContext& context, OperatorRole role,
                                     std::string_view name) {
  CertificateTemplate request =
      Base(context, Profile::kOperator, context.settings.operator_validity);
  request.subject.common_name = std::string(name);
  request.subject.organizational_unit = std::string(OperatorRoleName(role));
  request.uris.push_back(OperatorUri(role, name));
  return request;
}

CertificateTemplate ServerTemplate(const IssueContext& context,
                                   const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses) {
  CertificateTemplate request = Base(context, Profile::kServer, context.settings.server_validity);
  request.subject.common_name = dns_names.empty() ? "keyline-server" : dns_names.front();
  request.dns_names = dns_names;
  request.ip_addresses = ip_addresses;
  return request;
}

CertificateTemplate OcspSignerTemplate(const IssueContext& context, std::string_view ca_name) {
  CertificateTemplate request =
      Base(context, Profile::kOcspSigner, context.settings.ocsp_signer_validity);
  request.subject.common_name = absl::StrCat("OCSP signer for ", AsAbsl(ca_name));
  // id-pkix-ocsp-nocheck: relying parties do not check the responder's own status.
  request.crl_url.clear();
  request.ocsp_url.clear();
  return request;
}

std::string DeviceUri(std::string_view deployment, std::string_view device_serial) {
  return absl::StrCat("urn:keyline:", AsAbsl(deployment), ":device:", AsAbsl(device_serial));
}

CertificateTemplate DeviceTemplate(const IssueContext& context, std::string_view deployment,
                                   std::string_view device_serial) {
  CertificateTemplate request = Base(context, Profile::kDevice, context.settings.device_validity);
  request.subject.common_name = std::string(device_serial);
  request.subject.organizational_unit = std::string(deployment);
  request.uris.push_back(DeviceUri(deployment, device_serial));
  return request;
}

CertificateTemplate AttestationTemplate(const IssueContext& context, std::string_view device_serial,
                                        std::string_view hardware_model) {
  CertificateTemplate request =
      Base(context, Profile::kAttestation, context.settings.attestation_validity);
  request.subject.common_name = std::string(device_serial);
  request.subject.serial_number = std::string(device_serial);
  request.hardware_model = std::string(hardware_model);
  return request;
}

CertificateTemplate AuditSignerTemplate(const IssueContext& context) {
  CertificateTemplate request =
      Base(context, Profile::kAuditSigner, context.settings.audit_signer_validity);
  request.subject.common_name = absl::StrCat(context.settings.organization, " Audit Signer");
  request.crl_url.clear();
  request.ocsp_url.clear();
  return request;
}

}  // namespace keyline::ca
