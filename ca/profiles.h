// Certificate profiles: the factories that fill a CertificateTemplate for each kind of
// certificate Keyline issues. Subjects, validity and URLs come from here and from the settings,
// never from a CSR.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "ca/certificate_template.h"
#include "ca/operator_identity.h"

namespace keyline::ca {

struct ProfileSettings {
  std::string organization = "Keyline";
  // Where relying parties reach Keyline's HTTP endpoints; CRL and OCSP URLs are built from it.
  std::string public_base_url = "http://localhost:8080";
  absl::Duration root_validity = absl::Hours(24 * 365 * 20);
  absl::Duration intermediate_validity = absl::Hours(24 * 365 * 10);
  absl::Duration operator_validity = absl::Hours(24 * 90);
  absl::Duration server_validity = absl::Hours(24 * 90);
  absl::Duration device_validity = absl::Hours(24 * 30);
  absl::Duration ocsp_signer_validity = absl::Hours(24 * 30);
  // Attestation keys live as long as the hardware: as long as the manufacturer CA allows.
  absl::Duration attestation_validity = absl::Hours(24 * 365 * 10);
  absl::Duration audit_signer_validity = absl::Hours(24 * 365 * 2);
  // notBefore is set this far in the past so that clients with slightly slow clocks accept a
  // certificate the moment it is issued.
  absl::Duration backdate = absl::Minutes(5);
};

// The CRL of the CA named `ca_name` ("deployment/default" -> <base>/crl/deployment-default.crl).
std::string CrlUrl(const ProfileSettings& settings, std::string_view ca_name);
std::string OcspUrl(const ProfileSettings& settings);

// What every factory needs besides its own arguments.
struct IssueContext {
  const ProfileSettings& settings;
  const PublicKeyInfo* subject_key;  // not owned
  std::string serial;       // raw magnitude (GenerateSerial)
  absl::Time now;
  std::string issuer_name;  // the issuing CA's name, for the CRL URL; empty for the root
};

CertificateTemplate RootTemplate(const IssueContext& context);

// Intermediate CAs under the root. `profile` is kOperatorCa, kDeploymentCa or kManufacturerCa;
// `label` names it ("default" for deployment/default).
CertificateTemplate IntermediateCaTemplate(const IssueContext& context, Profile profile,
                                           std::string_view label);

CertificateTemplate OperatorTemplate(const IssueContext& context, OperatorRole role,
                                     std::string_view name);

CertificateTemplate ServerTemplate(const IssueContext& context,
                                   const std::vector<std::string>& dns_names,
                                   const std::vector<std::string>& ip_addresses);

CertificateTemplate OcspSignerTemplate(const IssueContext& context, std::string_view ca_name);

// urn:keyline:<deployment>:device:<serial>
std::string DeviceUri(std::string_view deployment, std::string_view device_serial);

CertificateTemplate DeviceTemplate(const IssueContext& context, std::string_view deployment,
                                   std::string_view device_serial);

// Attestation only: subject CN and serialNumber are the device serial, the model is recorded.
CertificateTemplate AttestationTemplate(const IssueContext& context, std::string_view device_serial,
                                        std::string_view hardware_model);

CertificateTemplate AuditSignerTemplate(const IssueContext& context);

}  // namespace keyline::ca
