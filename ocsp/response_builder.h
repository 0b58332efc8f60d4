// Builds OCSPResponse DER (RFC 6960 4.2.1): signed BasicOCSPResponses and the unsigned error
// responses.
//
// A signed response carries: responderID byKey (the signer's key hash), producedAt, one
// SingleResponse per CertID (the CertID bytes echoed exactly as the client sent them, so that
// byte-wise and field-wise matching both succeed), thisUpdate and nextUpdate, the nonce extension
// when the request had one (RFC 9654 2.1, echoed unchanged), signatureAlgorithm
// ecdsa-with-SHA256/384 by the signer key's curve, and the signer certificate in `certs` so that
// clients can check the delegation (RFC 6960 4.2.2.2). ResponseData is encoded here from
// pre-encoded pieces (common/der_writer.h) and its signature comes from hsm::SigningKey through
// ca::SignWithKey, so the key may live in the HSM.
//
// Thread-safe (no state); the cost is one signature plus a few microseconds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "ocsp/certificate_status.h"
#include "ocsp/ocsp_issuer.h"

namespace keyline::ocsp {

// OCSPResponseStatus (RFC 6960 4.2.1); 4 is not used.
enum class OcspResponseStatus {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kSigRequired = 5,
  kUnauthorized = 6,
};

std::string_view OcspResponseStatusName(OcspResponseStatus status);

struct SingleResponseData {
  std::string_view cert_id_der;  // the CertID as the request carried it
  CertificateStatus status;
  absl::Time this_update;  // encoded in whole seconds
  absl::Time next_update;  // encoded in whole seconds; after this_update
};

// The whole OCSPResponse (responseStatus successful). InvalidArgument for no responses, a CertID
// that is not a DER SEQUENCE, nextUpdate not after thisUpdate, a revocation reason outside
// CRLReason, or a nonce outside 1..128 octets; the signing key's errors pass through
// (Unavailable when the HSM is unreachable).
[[nodiscard]] absl::StatusOr<std::string> SignOcspResponse(
    const OcspIssuer& issuer, absl::Span<const SingleResponseData> responses,
    absl::Time produced_at, std::optional<std::string_view> nonce);

// The constant OCSPResponse for an unsuccessful status (no responseBytes, nothing signed, RFC 6960
// 2.3). kSuccessful is not an error status and yields the internalError response.
std::string_view UnsignedOcspResponse(OcspResponseStatus status);

}  // namespace keyline::ocsp
