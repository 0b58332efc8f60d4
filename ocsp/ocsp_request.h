// Parses an OCSPRequest (RFC 6960 4.1.1) strictly, with OpenSSL doing the ASN.1.
//
// Accepted: DER only (the input must re-encode byte for byte, which rules out BER such as
// indefinite or non-minimal lengths, and trailing bytes), at most kMaxOcspRequestBytes, at least
// one CertID. The nonce extension (id-pkix-ocsp-nonce) must hold a DER OCTET STRING of 1 to 128
// octets (RFC 9654 2.1). Any other extension marked critical, in requestExtensions or in a
// singleRequestExtensions, is refused (RFC 5280 4.2: we cannot process it); non-critical unknown
// extensions are ignored. An extension may appear only once per list.
//
// Deliberate leniencies:
// - A signed request (optionalSignature) is accepted and its signature ignored: Keyline answers
//   every relying party the same way, so a signature would authorize nothing.
// - requestorName is ignored.
// - The hash algorithm of a CertID is not refused here: SHA-1 and SHA-256 are recognised and their
//   hash lengths checked; any other algorithm is reported as kUnknown, which the responder answers
//   with `unauthorized` (RFC 6960 2.3) rather than `malformedRequest`.
// - Opaque parts OpenSSL keeps as received (extension values other than the nonce, the
//   requestorName and the optional signature's certificates) are not re-checked for DER.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace keyline::ocsp {

inline constexpr size_t kMaxOcspRequestBytes = 64 * 1024;
inline constexpr size_t kMinNonceBytes = 1;
inline constexpr size_t kMaxNonceBytes = 128;

enum class CertIdHash { kSha1, kSha256, kUnknown };

struct CertId {
  CertIdHash hash = CertIdHash::kUnknown;
  std::string issuer_name_hash;
  std::string issuer_key_hash;
  std::string serial;  // big-endian magnitude: no sign octet, no leading zero octets, not empty
  std::string der;     // the CertID exactly as received; the response echoes it
};

struct OcspRequest {
  std::vector<CertId> cert_ids;      // in request order, at least one
  std::optional<std::string> nonce;  // the nonce octets (inside the OCTET STRING), if sent
  bool signed_request = false;       // optionalSignature was present (and ignored)
};

// InvalidArgument naming the offending part for anything the rules above refuse.
[[nodiscard]] absl::StatusOr<OcspRequest> ParseOcspRequest(std::string_view der);

}  // namespace keyline::ocsp
