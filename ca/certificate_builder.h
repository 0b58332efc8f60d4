// Builds and signs a certificate from a template. The profile alone decides the extensions:
//
//   profile          basicConstraints     keyUsage (critical)        extKeyUsage   other
//   root             CA, critical         keyCertSign, cRLSign       -             SKI
//   *-ca             CA, pathlen 0, crit. keyCertSign, cRLSign       -             SKI AKI CDP AIA
//   ocsp-signer      not CA, critical     digitalSignature           OCSPSigning   SKI AKI ocsp-nocheck
//   operator, device not CA, critical     digitalSignature           clientAuth    SKI AKI SAN CDP AIA
//   server           not CA, critical     digitalSignature           serverAuth    SKI AKI SAN CDP AIA
//   attestation      not CA, critical     digitalSignature           Keyline attestation (never
//                                                                    clientAuth)   SKI AKI CDP AIA,
//                                                                    attestation policy, hardware model
//   audit-signer     not CA, critical     digitalSignature           Keyline audit signing  SKI AKI
//
// The manufacturer CA's keyUsage adds digitalSignature: it also signs ownership vouchers.
// SKI is the SHA-1 of the subjectPublicKey (RFC 5280 4.2.1.2 method 1); AKI carries the issuer's
// SKI. CDP and AIA appear only when the template has the URLs. The certificate never outlives its
// issuer: notAfter is clamped to the issuer's.
#pragma once

#include <string>

#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "ca/certificate_template.h"
#include "hsm/signing_key.h"

namespace keyline::ca {

struct BuiltCertificate {
  std::string der;
  absl::Time not_before;  // as encoded (whole seconds)
  absl::Time not_after;   // as encoded, after clamping to the issuer's
};

// `issuer_certificate` is null for a self-signed certificate, whose key must then be the
// template's public key. InvalidArgument for an incomplete template (missing key, serial, common
// name, or notAfter not after notBefore).
[[nodiscard]] absl::StatusOr<BuiltCertificate> BuildCertificate(
    const CertificateTemplate& request, const X509* issuer_certificate,
    const hsm::SigningKey& issuer_key);

}  // namespace keyline::ca
