#include "ca/certificate_template.h"

namespace keyline::ca {

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kRoot:
      return "root";
    case Profile::kOperatorCa:
      return "operator-ca";
    case Profile::kDeploymentCa:
      return "deployment-ca";
    case Profile::kManufacturerCa:
      return "manufacturer-ca";
    case Profile::kOcspSigner:
      return "ocsp-signer";
    case Profile::kOperator:
      return "operator";
    case Profile::kDevice:
      return "device";
    case Profile::kServer:
      return "server";
    case Profile::kAttestation:
      return "attestation";
    case Profile::kAuditSigner:
      return "audit-signer";
  }
  return "unknown";
}

bool IsCaProfile(Profile profile) {
  switch (profile) {
    case Profile::kRoot:
    case Profile::kOperatorCa:
    case Profile::kDeploymentCa:
    case Profile::kManufacturerCa:
      return true;
    default:
      return false;
  }
}

absl::Status CheckCertificateTemplate(const CertificateTemplate& request) {
  if (request.public_key == nullptr) return absl::InvalidArgumentError("template: no public key");
  if (request.serial.empty()) return absl::InvalidArgumentError("template: no serial");
  if (request.subject.common_name.empty()) {
    return absl::InvalidArgumentError("template: empty common name");
  }
  if (request.not_after <= request.not_before) {
    return absl::InvalidArgumentError("template: notAfter is not after notBefore");
  }
  return absl::OkStatus();
}

}  // namespace keyline::ca
