// CRLReason codes (RFC 5280 5.3.1) and the names operators type (`keylinectl revoke --reason
// keyCompromise`). certificateHold (6) is refused: Keyline revocation is permanent, and a hold
// would need removeFromCRL (8), which only delta CRLs may carry. Code 7 is unassigned.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"

namespace keyline::ca {

enum RevocationReason : int {
  kUnspecified = 0,
  kKeyCompromise = 1,
  kCaCompromise = 2,
  kAffiliationChanged = 3,
  kSuperseded = 4,
  kCessationOfOperation = 5,
  kCertificateHold = 6,
  kRemoveFromCrl = 8,
  kPrivilegeWithdrawn = 9,
  kAaCompromise = 10,
};

// The code for an RFC 5280 name ("keyCompromise", case-insensitive; "" means unspecified).
// InvalidArgument naming `field` for anything else, and for certificateHold/removeFromCRL.
[[nodiscard]] absl::StatusOr<int> ParseRevocationReason(std::string_view name,
                                                        std::string_view field = "reason");

// True for a code an operator may revoke with (0-5, 9, 10).
bool IsRevocationReasonAllowed(int code);

// The RFC 5280 name of a code ("keyCompromise"); "unknown" for codes outside the table.
std::string_view RevocationReasonName(int code);

}  // namespace keyline::ca
