// An OCSP client (RFC 6960) for `keylinectl status`: builds a request for one serial of a known
// issuer, POSTs it with OpenSSL's HTTP client, and verifies the answer before believing it.
//
// What VerifyOcspResponse checks, in order:
// - responseStatus is successful (anything else is an error naming the status);
// - the signature, with the issuer as the only trust anchor (a partial chain, so the issuer may be
//   an intermediate): either the issuer signed it, or a delegated responder whose certificate
//   the issuer signed and which carries id-kp-OCSPSigning (RFC 6960 4.2.2.2; OpenSSL's
//   OCSP_basic_verify). The responder certificate's own revocation is not checked (Keyline's
//   carry id-pkix-ocsp-nocheck, RFC 6960 4.2.2.2.1);
// - the nonce (RFC 9654), when the request carried one: the response must echo it. A response
//   without it is refused too, since it may be a replay of an old answer; a caller that accepts
//   cached answers builds the request without a nonce;
// - a SingleResponse for exactly this CertID;
// - freshness: thisUpdate not after now + 5 minutes, nextUpdate (when present) not before
//   now - 5 minutes (clock skew allowance as in `openssl ocsp`).
// Certificate validity and the signature are judged at `now`, not the wall clock.
//
// Thread safety: the functions are independent; the issuer X509 is only read.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/openssl_ptr.h"

namespace keyline::cli {

enum class OcspCertificateStatus { kGood, kRevoked, kUnknown };

std::string_view OcspCertificateStatusName(OcspCertificateStatus status);  // "good", ...

struct OcspRequestOptions {
  std::string serial;           // raw big-endian magnitude
  bool sha256_cert_id = false;  // CertID hashes: SHA-1 (RFC 6960's default, what every
                                // responder understands) or SHA-256
  bool nonce = true;            // a fresh 32-octet nonce (RFC 9654 recommends 32)
};

// The request as sent, and what is needed to check the answer against it.
struct PreparedOcspRequest {
  OcspRequestPtr request;
  OcspCertIdPtr cert_id;
  std::string der;
};

// `issuer` signed the certificate asked about; it is only read.
[[nodiscard]] absl::StatusOr<PreparedOcspRequest> BuildOcspRequest(
    const OcspRequestOptions& options, X509* issuer);

// POSTs `request_der` to `url` (http:// only; https is refused: OCSP answers are signed, and
// RFC 6960 A.1 uses plain HTTP) with Content-Type application/ocsp-request and returns the body
// of a 200 application/ocsp-response (at most 1 MiB). Honors http_proxy/no_proxy like OpenSSL.
// InvalidArgument for a malformed URL; Unavailable when the exchange fails, with OpenSSL's reason.
[[nodiscard]] absl::StatusOr<std::string> PostOcspRequest(const std::string& url,
                                                          std::string_view request_der,
                                                          absl::Duration timeout);

struct OcspVerdict {
  OcspCertificateStatus status = OcspCertificateStatus::kUnknown;
  absl::Time this_update;
  std::optional<absl::Time> next_update;
  std::optional<absl::Time> revoked_at;  // when revoked
  std::optional<int> reason;             // CRLReason code, when a revoked answer gives one
  std::string responder;                 // subject (RFC 2253) of the signing certificate
  bool nonce_matched = false;            // false only when the request had no nonce
};

// See the header comment. InvalidArgument when the bytes are not an OCSPResponse;
// FailedPrecondition for a non-successful response status; PermissionDenied when the signature,
// the responder's authority, the nonce or the freshness fails; NotFound when the response has
// no answer for the CertID asked about.
[[nodiscard]] absl::StatusOr<OcspVerdict> VerifyOcspResponse(std::string_view response_der,
                                                             const PreparedOcspRequest& request,
                                                             X509* issuer, absl::Time now);

}  // namespace keyline::cli
