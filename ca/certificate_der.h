// Conversions between DER and PEM for certificates, and small readers of certificate fields.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/openssl_ptr.h"

namespace keyline::ca {

// InvalidArgument when `der` is not exactly one DER certificate.
[[nodiscard]] absl::StatusOr<X509Ptr> ParseCertificateDer(std::string_view der);

[[nodiscard]] absl::StatusOr<std::string> CertificateToDer(const X509* certificate);

std::string DerToPem(std::string_view der);  // "-----BEGIN CERTIFICATE-----..."

// Every certificate in a PEM bundle, in order, as DER. InvalidArgument if there is none or one is
// malformed.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> PemToDerChain(std::string_view pem);

// The raw bytes of the subjectKeyIdentifier extension (empty if absent).
std::string SubjectKeyIdOf(const X509* certificate);

absl::Time NotBeforeOf(const X509* certificate);
absl::Time NotAfterOf(const X509* certificate);

}  // namespace keyline::ca
