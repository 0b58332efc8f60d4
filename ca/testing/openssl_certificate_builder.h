// The certificate builder as it was before ca/tbs_certificate_der.h: OpenSSL's X509 object, its
// names and extension objects, encoded by OpenSSL. Kept for tests only, as the independent
// encoding that BuildCertificate's TBSCertificate must equal byte for byte.
#pragma once

#include <openssl/x509.h>

#include "absl/status/statusor.h"
#include "ca/certificate_builder.h"
#include "ca/certificate_template.h"
#include "hsm/signing_key.h"

namespace keyline::ca::testing {

[[nodiscard]] absl::StatusOr<BuiltCertificate> BuildCertificateWithOpenSsl(
    const CertificateTemplate& request, const X509* issuer_certificate,
    const hsm::SigningKey& issuer_key);

}  // namespace keyline::ca::testing
