// The TBSCertificate (RFC 5280 4.1) of a template, written as DER directly. Building OpenSSL's
// X509 object, its names and extension objects and then encoding them cost more per certificate
// than the rest of issuance apart from the signature (bench/issuance). The encoding is the one the
// X509 object would have produced, byte for byte; ca/certificate_builder_test.cc compares the two
// for every profile.
//
// Which extensions each profile gets is described in ca/certificate_builder.h.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/certificate_template.h"

namespace keyline::ca {

struct TbsIssuer {
  std::string_view name_der;  // the issuer's subject Name, DER; empty for a self-signed template
  std::string_view key_id;    // the issuer's subjectKeyIdentifier; empty for a self-signed one
};

// `signature_algorithm` is the AlgorithmIdentifier DER of the issuer's signature; `not_after` is
// the template's, already clamped to the issuer's. Internal naming the subject attribute for a
// subject OpenSSL would refuse too (longer than 64 characters, not UTF-8, a serialNumber outside
// PrintableString); InvalidArgument for a bad IP address in subjectAltName.
[[nodiscard]] absl::StatusOr<std::string> EncodeTbsCertificate(const CertificateTemplate& request,
                                                               const TbsIssuer& issuer,
                                                               std::string_view signature_algorithm,
                                                               absl::Time not_after);

// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }.
std::string EncodeSignedCertificate(std::string_view tbs, std::string_view signature_algorithm,
                                    std::string_view signature);

// The AlgorithmIdentifier DER for a signature algorithm NID, without parameters (RFC 5758 3.2).
std::string SignatureAlgorithmDer(int nid);

}  // namespace keyline::ca
