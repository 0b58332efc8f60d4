// What a certificate will say, before it is built and signed. Filled by the profile factories in
// ca/profiles.h; the profile decides the extensions (ca/certificate_builder.h), never a CSR.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ca/public_key_info.h"

namespace keyline::ca {

enum class Profile {
  kRoot,            // self-signed trust anchor, key in the HSM
  kOperatorCa,      // issues operator (factory/gateway/admin) and server TLS certificates
  kDeploymentCa,    // one per deployment; issues device certificates
  kManufacturerCa,  // attestation only: issues attestation certificates for secure elements
  kOcspSigner,      // delegated OCSP responder certificate (id-kp-OCSPSigning, ocsp-nocheck)
  kOperator,        // mTLS client certificate of a factory station, gateway or admin
  kDevice,          // runtime device certificate (clientAuth only)
  kServer,          // keyline-server's TLS server certificate
  kAttestation,     // a secure element's attestation key, from a manufacturer CA
  kAuditSigner,     // the HSM key that signs audit checkpoints
};

// "root", "operator-ca", "deployment-ca", "manufacturer-ca", "ocsp-signer", "operator",
// "device", "server", "attestation", "audit-signer": the value stored in certificates.profile.
std::string_view ProfileName(Profile profile);

bool IsCaProfile(Profile profile);

struct SubjectName {
  std::string common_name;
  std::string organization;
  std::string organizational_unit;  // optional
  std::string serial_number;        // optional: the X.520 serialNumber attribute (device serial)
};

struct CertificateTemplate {
  Profile profile = Profile::kDevice;
  SubjectName subject;
  const PublicKeyInfo* public_key = nullptr;  // not owned; must outlive the build
  std::string serial;              // raw big-endian magnitude (ca/serial_number.h)
  absl::Time not_before;
  absl::Time not_after;            // clamped to the issuer's notAfter when built
  std::vector<std::string> uris;          // subjectAltName URIs
  std::vector<std::string> dns_names;     // subjectAltName DNS names
  std::vector<std::string> ip_addresses;  // subjectAltName IP addresses, textual
  std::string crl_url;   // cRLDistributionPoints; empty for the root
  std::string ocsp_url;  // authorityInfoAccess OCSP; empty for the root and OCSP signers
  std::string hardware_model;  // attestation certificates: recorded in a Keyline extension
};

// InvalidArgument for an incomplete template: no public key, serial or common name, or a notAfter
// that is not after notBefore.
[[nodiscard]] absl::Status CheckCertificateTemplate(const CertificateTemplate& request);

}  // namespace keyline::ca
