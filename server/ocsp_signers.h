// Delegated OCSP responders (RFC 6960 4.2.2.2): one per CA Keyline runs, each a key in the HSM
// with a short-lived certificate from that CA (profile ocsp-signer: id-kp-OCSPSigning,
// id-pkix-ocsp-nocheck), stored in the certificates table so every replica finds the same one.
// A signer whose certificate has less than `renew_before` left is replaced by a new key and
// certificate; relying parties need nothing, since each response carries its signer's
// certificate.
//
// The key's CKA_LABEL is the certificate's subject column:
// "keyline-ocsp-signer/<ca name>/<unix seconds>".
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/issuing_ca.h"
#include "ca/profiles.h"
#include "hsm/token.h"
#include "ocsp/ocsp_issuer.h"
#include "store/certificate_repository.h"

namespace keyline::server {

struct OcspSigner {
  std::shared_ptr<const ocsp::OcspIssuer> issuer;  // the CA with this signer
  absl::Time not_after;
};

// The CA's current signer, made (key generated, certificate issued and stored with its audit
// event) when there is none or it expires within `renew_before`.
[[nodiscard]] absl::StatusOr<OcspSigner> EnsureOcspSigner(const ca::ProfileSettings& profiles,
                                                          hsm::Token& token,
                                                          const ca::IssuingCa& ca,
                                                          store::CertificateRepository& certificates,
                                                          absl::Duration renew_before);

}  // namespace keyline::server
