// The fields of a certificate that enrollment reads on every request (validity and subject
// public key), without OpenSSL's full X509 decoding.
//
// d2i_X509 costs about 100 µs on OpenSSL 3.0 (the key goes through the provider decoders, see
// ca/public_key_decoder.h), and enrollment meets a device's attestation certificate in both
// BeginEnrollment and CompleteEnrollment. The outline reads the certificate's structure with an
// ASN.1 template that leaves names, algorithms and extensions as opaque elements: a few
// microseconds. It checks structure only, never a signature: use it on certificates whose
// validation is already done (or is about to be done by OpenSSL on the same bytes).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::ca {

struct CertificateOutline {
  absl::Time not_before;
  absl::Time not_after;
  std::string public_key_info_der;  // the SubjectPublicKeyInfo, octets as in the certificate
};

// InvalidArgument "certificate: ..." unless `der` is exactly one X.509 certificate structure.
[[nodiscard]] absl::StatusOr<CertificateOutline> ReadCertificateOutline(std::string_view der);

}  // namespace keyline::ca
