// What the responder says about one certificate, and where it learns it.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace keyline::ocsp {

class OcspIssuer;

struct CertificateStatus {
  // RFC 6960 2.2: kUnknown for a serial the CA never issued (or that we cannot place).
  enum class Kind { kGood, kRevoked, kUnknown };
  Kind kind = Kind::kUnknown;
  absl::Time revoked_at;      // kRevoked only; encoded in whole seconds
  std::optional<int> reason;  // kRevoked only: CRLReason code (RFC 5280 5.3.1; 7 is unused)
};

// The source of truth for certificate status: the server implements it over PostgreSQL, tests
// over an in-memory map (ocsp/testing/in_memory_status_source.h).
//
// Lookup must be thread-safe: the responder calls it from every HTTP thread and from RefreshDue
// and Invalidate at the same time. `serial` is the big-endian magnitude (no leading zero octets).
// A serial the CA did not issue is Kind::kUnknown, not an error. Errors mean "cannot tell now":
// Unavailable (database down, retry) becomes the OCSP status tryLater, anything else
// internalError; neither is ever turned into a signed answer.
class StatusSource {
 public:
  virtual ~StatusSource() = default;

  [[nodiscard]] virtual absl::StatusOr<CertificateStatus> Lookup(
      const OcspIssuer& issuer, std::string_view serial) const = 0;
};

}  // namespace keyline::ocsp
